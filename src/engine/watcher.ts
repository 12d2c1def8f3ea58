/** The durable log watcher: cursor, confirmations, proven reads, trailing re-read, reorg rewind on proof. */
import type { Database } from "bun:sqlite";
import { hexToBigInt, numberToHex, type Hex, type Log } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import {
  advanceCursor,
  blocksBelow,
  forgetAfter,
  readCursor,
  recordProcessedLog,
  type StoredBlock,
} from "../core/state/chain.ts";
import { laggingProvider, RangeCap, readChunk, type RpcBatcher } from "./log-reader.ts";

export { isRangeError } from "./log-reader.ts";

/** How many recent block hashes are kept to find the fork point after a reorg. */
const KEEP_BLOCKS = 256n;

export interface WatcherOptions {
  chainId: number;
  address: Hex;
  confirmations: number;
  useFinalized: boolean;
  startBlock: bigint;
  maxChunk: number;
  /** Blocks behind the cursor read a second time (in a later poll, perhaps from another backend) before they leave the window. */
  rereadBlocks?: number;
}

export type Cursor = StoredBlock;

export interface PollResult {
  head: bigint;
  target: bigint;
  cursor: bigint;
  logs: number;
}

/** Record a log as applied; false when it already was (a replay). Call inside the applying transaction. */
export function markProcessed(db: Database, chainId: number, l: Log): boolean {
  return recordProcessedLog(db, chainId, {
    txHash: l.transactionHash!,
    logIndex: l.logIndex!,
    blockNumber: l.blockNumber!,
    event: l.topics[0] ?? "",
  });
}

/** One call through the batcher; a JSON-RPC error becomes an E_CHAIN error. */
export async function rpcCall<T>(rpc: RpcBatcher, method: string, params: unknown[]): Promise<T> {
  const { answers } = await rpc.batch([{ method, params }]);
  const a = answers[0]!;
  if (a.error) throw new BlockhostError("E_CHAIN", `${method}: ${a.error.message}`, { rpc_code: a.error.code });
  return a.result as T;
}

/**
 * The durable log watcher. The cursor (block number + hash) and recent block hashes live in
 * SQLite; only blocks at head − confirmations (or `finalized`) are read. Every range is read
 * with proof that the answering node had its last block (see readProvenRange), and the last
 * `rereadBlocks` blocks are read again in the next poll, so one lagging or inconsistent backend
 * cannot make the engine skip a log. A rewind happens only when a block that exists has a
 * different hash; "not found" and RPC errors fail the poll (retried), never rewind. Each
 * chunk's logs are applied in the transaction that advances the cursor, keyed by (chain, tx
 * hash, log index), so a replay after a crash, a re-read or a rewind is a no-op.
 */
export class LogWatcher {
  readonly cap: RangeCap;
  /** Highest block read twice (or on a previous run): the re-read starts above it. */
  private rereadTo: bigint | null = null;

  constructor(
    private readonly db: Database,
    private readonly rpc: RpcBatcher,
    private readonly opts: WatcherOptions,
  ) {
    this.cap = new RangeCap(opts.maxChunk);
  }

  cursor(): Cursor | null {
    return readCursor(this.db, this.opts.chainId);
  }

  /** The highest block the engine may act on now. */
  async target(): Promise<{ head: bigint; target: bigint }> {
    const head = hexToBigInt(await rpcCall<Hex>(this.rpc, "eth_blockNumber", []));
    if (this.opts.useFinalized) {
      const fin = await rpcCall<{ number: Hex } | null>(this.rpc, "eth_getBlockByNumber", ["finalized", false]);
      if (!fin) throw new BlockhostError("E_CHAIN", "the provider has no finalized block");
      return { head, target: hexToBigInt(fin.number) };
    }
    return { head, target: head - BigInt(this.opts.confirmations) };
  }

  /**
   * One round: check for a reorg, re-read the trailing window, then read and apply logs up to the
   * target in chunks. `apply` runs inside the cursor's transaction and must only touch the database.
   */
  async poll(apply: (logs: Log[]) => void, shouldStop: () => boolean = () => false): Promise<PollResult> {
    const { head, target } = await this.target();
    let cur = await this.checkReorg();
    let count = cur ? await this.reread(cur, apply) : 0;
    let from = cur ? cur.number + 1n : this.opts.startBlock;
    const filter = { address: this.opts.address };
    while (from <= target && !shouldStop()) {
      const { logs, toHash, end } = await readChunk(this.rpc, this.cap, filter, from, target);
      this.commit(logs, apply, { number: end, hash: toHash });
      count += logs.length;
      cur = { number: end, hash: toHash };
      from = end + 1n;
    }
    return { head, target, cursor: cur?.number ?? this.opts.startBlock - 1n, logs: count };
  }

  private commit(logs: Log[], apply: (logs: Log[]) => void, advanceTo: Cursor | null): number {
    let fresh: Log[] = [];
    this.db
      .transaction(() => {
        fresh = logs.filter((l) => markProcessed(this.db, this.opts.chainId, l));
        apply(fresh);
        if (advanceTo) this.advance(advanceTo.number, advanceTo.hash);
      })
      .immediate();
    return fresh.length;
  }

  /**
   * Read the blocks passed since the last re-read (at most `rereadBlocks` behind the cursor) once
   * more, up to the cursor's block, whose hash must still match. A log found only now is applied
   * (and reported: some backend had answered without it).
   */
  private async reread(cur: Cursor, apply: (logs: Log[]) => void): Promise<number> {
    const window = BigInt(this.opts.rereadBlocks ?? 0);
    if (window <= 0n) return 0;
    const lowest = cur.number - window + 1n > this.opts.startBlock ? cur.number - window + 1n : this.opts.startBlock;
    const from = this.rereadTo !== null && this.rereadTo + 1n > lowest ? this.rereadTo + 1n : lowest;
    if (from > cur.number) return 0;
    let late = 0;
    for (let at = from; at <= cur.number; ) {
      const { logs, toHash, end } = await readChunk(this.rpc, this.cap, { address: this.opts.address }, at, cur.number);
      if (end === cur.number && toHash !== cur.hash)
        throw new BlockhostError(
          "E_CHAIN",
          `block ${cur.number} changed hash during the re-read; checking for a reorg next poll`,
        );
      late += this.commit(logs, apply, null);
      at = end + 1n;
    }
    if (late > 0) logEvent("engine.late_logs", { from: String(from), to: String(cur.number), logs: late });
    this.rereadTo = cur.number;
    return late;
  }

  private advance(number: bigint, hash: Hex): void {
    advanceCursor(this.db, this.opts.chainId, { number, hash }, KEEP_BLOCKS);
  }

  /** The hash of block `n` on the chain; a block the node does not have is an error (retry), never "different". */
  private async hashOf(n: bigint): Promise<Hex> {
    const b = await rpcCall<{ hash: Hex } | null>(this.rpc, "eth_getBlockByNumber", [numberToHex(n), false]);
    if (!b?.hash) throw laggingProvider(`block ${n} not found on the provider (lagging backend?); retrying, no rewind`);
    return b.hash;
  }

  /**
   * Compare the cursor's hash with the chain's. Only a block that exists with a different hash is
   * a reorg: walk back through the stored hashes to the newest block still on the chain and
   * rewind there; logs of the dropped blocks are forgotten so their replacements are read again.
   */
  private async checkReorg(): Promise<Cursor | null> {
    const cur = this.cursor();
    if (!cur) return null;
    if ((await this.hashOf(cur.number)) === cur.hash) return cur;
    let fork: Cursor | null = null;
    for (const s of blocksBelow(this.db, this.opts.chainId, cur.number)) {
      if ((await this.hashOf(s.number)) === s.hash) {
        fork = s;
        break;
      }
    }
    // Every stored block proven replaced: the reorg is deeper than what is kept; read again from the start.
    const rewindTo = fork?.number ?? this.opts.startBlock - 1n;
    logEvent("engine.reorg", {
      chain_id: this.opts.chainId,
      cursor: String(cur.number),
      rewind_to: String(rewindTo),
      known_fork: fork !== null,
    });
    this.db.transaction(() => {
      forgetAfter(this.db, this.opts.chainId, rewindTo, fork === null);
      if (fork) this.advance(fork.number, fork.hash);
    })();
    this.rereadTo = null;
    return fork;
  }
}
