/** The log watcher against a scripted chain. */
import { afterEach, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import type { Hex, Log, PublicClient } from "viem";
import { openDatabase } from "../../../src/core/state/db.ts";
import { isRangeError, LogWatcher } from "../../../src/engine/watcher.ts";
import { tempDir } from "../../helpers/binary.ts";

/** A scripted chain: blocks with hashes and one log per listed block; getLogs refuses ranges over `maxRange`. */
class FakeChain {
  hashes = new Map<bigint, Hex>();
  logBlocks = new Set<bigint>();
  head = 0n;
  maxRange = 1_000_000n;
  calls: Array<[bigint, bigint]> = [];
  fork = "a";
  finalized = 0n;

  mineTo(n: bigint) { for (let b = this.head + 1n; b <= n; b++) this.hashes.set(b, this.hash(b)); this.head = n; }
  hash(b: bigint): Hex { return `0x${this.fork}${b.toString(16).padStart(63, "0")}`.slice(0, 66) as Hex; }
  reorgFrom(b: bigint) { this.fork = "b"; for (let x = b; x <= this.head; x++) this.hashes.set(x, this.hash(x)); }

  client(): PublicClient {
    return {
      getBlockNumber: async () => this.head,
      getBlock: async ({ blockNumber, blockTag }: { blockNumber?: bigint; blockTag?: string }) => {
        const n = blockTag === "finalized" ? this.finalized : blockNumber!;
        return { number: n, hash: this.hashes.get(n)! };
      },
      getLogs: async ({ fromBlock, toBlock }: { fromBlock: bigint; toBlock: bigint }) => {
        this.calls.push([fromBlock, toBlock]);
        if (toBlock - fromBlock + 1n > this.maxRange) throw new Error("query exceeds max block range 100");
        return [...this.logBlocks].filter((b) => b >= fromBlock && b <= toBlock && b <= this.head).map((b) => ({
          blockNumber: b, logIndex: 0, transactionHash: `0x${this.fork}${b.toString(16).padStart(63, "0")}`.slice(0, 66), topics: ["0x01"], data: "0x",
        }) as unknown as Log);
      },
    } as unknown as PublicClient;
  }
}

let cleanup: () => void = () => {};
let db: Database;
afterEach(() => { db?.close(); cleanup(); });

function setup(confirmations = 0, useFinalized = false) {
  const t = tempDir();
  cleanup = t.cleanup;
  db = openDatabase(`${t.dir}/x.db`);
  const chain = new FakeChain();
  const seen: bigint[] = [];
  const watcher = new LogWatcher(db, chain.client(), { chainId: 1, address: "0x0000000000000000000000000000000000000001", confirmations, useFinalized, startBlock: 1n, maxChunk: 1000 });
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
  for (const m of ["query exceeds max block range 100", "Log response size exceeded", "eth_getLogs is limited to a 10,000 range", "query returned more than 10000 results"]) expect(isRangeError(new Error(m))).toBe(true);
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
