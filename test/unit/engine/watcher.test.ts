/** The log watcher against a scripted chain. */
import { afterEach, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { toHex, type Hex } from "viem";
import type { RpcAnswer, RpcCall } from "../../../src/chain/rpc-pool.ts";
import { RangeCap, type RpcBatcher } from "../../../src/engine/log-reader.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import { isRangeError, LogWatcher } from "../../../src/engine/watcher.ts";
import { tempDir } from "../../helpers/binary.ts";

/**
 * A scripted chain answering the watcher's JSON-RPC batches: blocks with hashes and one log per
 * listed block; getLogs refuses ranges over `maxRange`; `lag` makes the node answer as if its head
 * were that many blocks behind (logs above it are silently missing, blocks above it are null).
 */
class FakeChain {
  hashes = new Map<bigint, Hex>();
  logBlocks = new Set<bigint>();
  head = 0n;
  maxRange = 1_000_000n;
  calls: Array<[bigint, bigint]> = [];
  fork = "a";
  finalized = 0n;
  lag = 0n;
  /** Fail this many getBlockByNumber calls with an RPC error. */
  blockErrors = 0;

  mineTo(n: bigint) {
    for (let b = this.head + 1n; b <= n; b++) this.hashes.set(b, this.hash(b));
    this.head = n;
  }
  hash(b: bigint): Hex {
    return `0x${this.fork}${b.toString(16).padStart(63, "0")}`.slice(0, 66) as Hex;
  }
  reorgFrom(b: bigint) {
    this.fork = "b";
    for (let x = b; x <= this.head; x++) this.hashes.set(x, this.hash(x));
  }

  private answer(c: RpcCall): RpcAnswer {
    const nodeHead = this.head - this.lag;
    const p = (c.params ?? []) as unknown[];
    if (c.method === "eth_blockNumber") return { result: toHex(nodeHead) };
    if (c.method === "eth_getBlockByNumber") {
      if (this.blockErrors > 0) {
        this.blockErrors--;
        return { error: { code: -32000, message: "header not found" } };
      }
      const n = p[0] === "finalized" ? this.finalized : BigInt(p[0] as Hex);
      return { result: n > nodeHead ? null : { number: toHex(n), hash: this.hashes.get(n)! } };
    }
    if (c.method === "eth_getLogs") {
      const f = p[0] as { fromBlock: Hex; toBlock: Hex };
      const [from, to] = [BigInt(f.fromBlock), BigInt(f.toBlock)];
      this.calls.push([from, to]);
      if (to - from + 1n > this.maxRange)
        return { error: { code: -32005, message: "query exceeds max block range 100" } };
      return {
        result: [...this.logBlocks]
          .filter((b) => b >= from && b <= to && b <= nodeHead)
          .map((b) => ({
            address: "0x0000000000000000000000000000000000000001",
            blockNumber: toHex(b),
            blockHash: this.hashes.get(b),
            logIndex: "0x0",
            transactionIndex: "0x0",
            transactionHash: `0x${this.fork}${b.toString(16).padStart(63, "0")}`.slice(0, 66),
            topics: ["0x01"],
            data: "0x",
            removed: false,
          })),
      };
    }
    throw new Error(`unexpected ${c.method}`);
  }

  rpc(): RpcBatcher {
    return { batch: async (calls: RpcCall[]) => ({ answers: calls.map((c) => this.answer(c)), provider: "fake" }) };
  }
}

let cleanup: () => void = () => {};
let db: Database;
afterEach(() => {
  db?.close();
  cleanup();
});

function setup(confirmations = 0, useFinalized = false, rereadBlocks = 0) {
  const t = tempDir();
  cleanup = t.cleanup;
  db = openDatabase(`${t.dir}/x.db`);
  const chain = new FakeChain();
  const seen: bigint[] = [];
  const watcher = new LogWatcher(db, chain.rpc(), {
    chainId: 1,
    address: "0x0000000000000000000000000000000000000001",
    confirmations,
    useFinalized,
    startBlock: 1n,
    maxChunk: 1000,
    rereadBlocks,
  });
  const poll = () => watcher.poll((logs) => seen.push(...logs.map((l) => l.blockNumber!)));
  return { chain, seen, watcher, poll };
}

test("range errors halve the chunk until the provider accepts it, and every log arrives once", async () => {
  const { chain, seen, poll } = setup();
  chain.mineTo(5000n);
  chain.maxRange = 100n;
  for (const b of [1n, 99n, 100n, 2500n, 5000n]) chain.logBlocks.add(b);
  await poll();
  expect(seen).toEqual([1n, 99n, 100n, 2500n, 5000n]);
  expect(chain.calls.every(([f, t]) => t - f + 1n <= 1000n)).toBe(true);
  expect(chain.calls.filter(([f, t]) => t - f + 1n <= 100n).length).toBeGreaterThan(40);
  await poll();
  expect(seen).toHaveLength(5);
});

test("only confirmed blocks are read", async () => {
  const { chain, seen, watcher, poll } = setup(3);
  chain.mineTo(10n);
  chain.logBlocks.add(9n);
  const r = await poll();
  expect(r.target).toBe(7n);
  expect(watcher.cursor()!.number).toBe(7n);
  expect(seen).toEqual([]);
  chain.mineTo(12n);
  await poll();
  expect(seen).toEqual([9n]);
});

test("a changed hash at the cursor rewinds to the fork point and re-reads the replacement blocks", async () => {
  const { chain, seen, watcher, poll } = setup();
  chain.mineTo(10n);
  await poll();
  chain.mineTo(20n);
  chain.logBlocks.add(15n);
  await poll();
  expect(seen).toEqual([15n]);
  chain.reorgFrom(12n);
  await poll();
  expect(watcher.cursor()).toEqual({ number: 20n, hash: chain.hash(20n) });
  expect(seen).toEqual([15n, 15n]); // the replacement block's log (a different tx) is applied
});

test("range errors are recognised in the usual provider phrasings", () => {
  for (const m of [
    "query exceeds max block range 100",
    "Log response size exceeded",
    "eth_getLogs is limited to a 10,000 range",
    "query returned more than 10000 results",
  ])
    expect(isRangeError(new Error(m))).toBe(true);
  expect(isRangeError(new Error("connection refused"))).toBe(false);
});

test("with use_finalized, the finalized block bounds what is read", async () => {
  const { chain, seen, watcher, poll } = setup(0, true);
  chain.mineTo(100n);
  chain.finalized = 40n;
  for (const b of [30n, 50n]) chain.logBlocks.add(b);
  expect((await poll()).target).toBe(40n);
  expect(seen).toEqual([30n]);
  chain.finalized = 64n;
  await poll();
  expect(seen).toEqual([30n, 50n]);
  expect(watcher.cursor()!.number).toBe(64n);
});

test("a lagging node's empty answer never moves the cursor past its head", async () => {
  const { chain, seen, watcher, poll } = setup();
  chain.mineTo(20n);
  chain.logBlocks.add(18n);
  chain.lag = 5n; // the node's head is 15: it would answer getLogs 1..20 without block 18's log
  const r = await poll();
  expect(r.target).toBe(15n); // its own head is all it may vouch for
  expect(watcher.cursor()!.number).toBe(15n);
  chain.lag = 0n;
  await poll();
  expect(seen).toEqual([18n]);
});

test("a node that lacks the chunk's last block proves nothing: the poll fails and the cursor stays", async () => {
  const { chain, seen, watcher, poll } = setup();
  chain.mineTo(10n);
  await poll();
  chain.mineTo(20n);
  chain.logBlocks.add(18n);
  // The head came from an up-to-date node, the logs from one 5 blocks behind.
  const rpc = chain.rpc();
  const lagged: RpcBatcher = {
    batch: async (calls) => {
      if (calls.some((c) => c.method === "eth_getLogs")) {
        chain.lag = 5n;
        try {
          return await rpc.batch(calls);
        } finally {
          chain.lag = 0n;
        }
      }
      return await rpc.batch(calls);
    },
  };
  const w2 = new LogWatcher(db, lagged, {
    chainId: 1,
    address: "0x0000000000000000000000000000000000000001",
    confirmations: 0,
    useFinalized: false,
    startBlock: 1n,
    maxChunk: 1000,
  });
  await expect(w2.poll(() => {})).rejects.toThrow(/lagging/);
  expect(watcher.cursor()!.number).toBe(10n);
  await poll();
  expect(seen).toEqual([18n]);
});

test("'not found' and RPC errors at the cursor are retried, never a rewind", async () => {
  const { chain, watcher, poll } = setup();
  chain.mineTo(30n);
  await poll();
  chain.blockErrors = 1;
  await expect(poll()).rejects.toThrow(/header not found/);
  chain.lag = 10n; // the cursor's block is above this node's head: null, not a different hash
  await expect(poll()).rejects.toThrow(/not found on the provider/);
  chain.lag = 0n;
  expect(watcher.cursor()).toEqual({ number: 30n, hash: chain.hash(30n) });
  expect((db.query("SELECT COUNT(*) AS n FROM chain_blocks").get() as { n: number }).n).toBeGreaterThan(0);
});

test("the trailing window is read again in the next poll and late logs are applied once", async () => {
  const { chain, seen, poll } = setup(0, false, 8);
  chain.mineTo(10n);
  await poll();
  chain.mineTo(20n);
  chain.logBlocks.add(15n);
  const hidden = chain.logBlocks;
  chain.logBlocks = new Set(); // an inconsistent node answers without block 15's log
  await poll();
  expect(seen).toEqual([]);
  chain.logBlocks = hidden;
  await poll();
  expect(seen).toEqual([15n]);
  await poll();
  expect(seen).toEqual([15n]);
});

test("the range cap halves on range errors and grows back after successes", () => {
  const cap = new RangeCap(1000);
  cap.shrink();
  cap.shrink();
  expect(cap.size).toBe(250);
  for (let i = 0; i < 8; i++) cap.succeeded();
  expect(cap.size).toBe(250); // 500 was refused: not asked again soon
  for (let i = 0; i < 56; i++) cap.succeeded();
  expect(cap.size).toBe(500); // probed again after a long run of successes
  for (let i = 0; i < 4; i++) cap.succeeded();
  expect(cap.size).toBe(1000);
  for (let i = 0; i < 20; i++) cap.succeeded();
  expect(cap.size).toBe(1000);
});

test("rate limits are not range errors", () => {
  for (const m of ["rate exceeded", "Too Many Requests", "daily request limit reached, rate limited"])
    expect(isRangeError(new Error(m))).toBe(false);
  expect(isRangeError(Object.assign(new Error("HTTP request failed"), { status: 429 }))).toBe(false);
});
