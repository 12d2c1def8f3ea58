/** The durable log watcher: cursor, confirmations, reorg rewind, chunked getLogs. */
import type { Database } from "bun:sqlite";
import type { Hex, Log, PublicClient } from "viem";
import { logEvent } from "../core/log.ts";
import { advanceCursor, blocksBelow, forgetAfter, readCursor, recordProcessedLog, type StoredBlock } from "../core/state/chain.ts";

/** How many recent block hashes are kept to find the fork point after a reorg. */
const KEEP_BLOCKS = 256n;

export interface WatcherOptions {
  chainId: number;
  address: Hex;
  confirmations: number;
  useFinalized: boolean;
  startBlock: bigint;
  maxChunk: number;
}

export type Cursor = StoredBlock;

export interface PollResult { head: bigint; target: bigint; cursor: bigint; logs: number }

/** Record a log as applied; false when it already was (a replay). Call inside the applying transaction. */
export function markProcessed(db: Database, chainId: number, l: Log): boolean {
  return recordProcessedLog(db, chainId, { txHash: l.transactionHash!, logIndex: l.logIndex!, blockNumber: l.blockNumber!, event: l.topics[0] ?? "" });
}

/** Providers phrase "your block range is too large" in many ways; all mean: ask for less. */
export function isRangeError(e: unknown): boolean {
  const text = `${(e as { details?: string })?.details ?? ""} ${(e as Error)?.message ?? e}`;
  return /range|too many|limit|exceed|more than \d+|response size|query timeout|block range/i.test(text);
}

/**
 * The durable log watcher. The cursor (block number + hash) and recent block hashes live in
 * SQLite; only blocks at head − confirmations (or `finalized`) are read; a changed hash at the
 * cursor means a reorg and rewinds to the last block both chains share. Each chunk's logs are
 * handed to `apply` inside the same transaction that advances the cursor, and each log is keyed
 * by (chain, tx hash, log index), so a replay after a crash or rewind is a no-op.
 */
export class LogWatcher {
  private chunk: number;

  constructor(private readonly db: Database, private readonly client: PublicClient, private readonly opts: WatcherOptions) {
    this.chunk = opts.maxChunk;
  }

  cursor(): Cursor | null {
    return readCursor(this.db, this.opts.chainId);
  }

  /** The highest block the engine may act on now. */
  async target(): Promise<{ head: bigint; target: bigint }> {
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    if (this.opts.useFinalized) {
      const fin = await this.client.getBlock({ blockTag: "finalized" });
      return { head, target: fin.number ?? 0n };
    }
    return { head, target: head - BigInt(this.opts.confirmations) };
  }

  /**
   * One round: check for a reorg, then read and apply logs up to the target in chunks.
   * `apply` runs inside the cursor's transaction and must only touch the database.
   */
  async poll(apply: (logs: Log[]) => void, shouldStop: () => boolean = () => false): Promise<PollResult> {
    const { head, target } = await this.target();
    let cur = await this.checkReorg();
    let from = cur ? cur.number + 1n : this.opts.startBlock;
    let count = 0;
    while (from <= target && !shouldStop()) {
      const to = from + BigInt(this.chunk) - 1n < target ? from + BigInt(this.chunk) - 1n : target;
      let logs: Log[];
      try {
        logs = await this.client.getLogs({ address: this.opts.address, fromBlock: from, toBlock: to });
      } catch (e) {
        if (this.chunk > 1 && isRangeError(e)) {
          this.chunk = Math.max(1, Math.floor(this.chunk / 2));
          logEvent("engine.getlogs_range_halved", { from: String(from), to: String(to), chunk: this.chunk });
          continue;
        }
        throw e;
      }
      const block = await this.client.getBlock({ blockNumber: to });
      logs.sort((a, b) => (a.blockNumber === b.blockNumber ? (a.logIndex ?? 0) - (b.logIndex ?? 0) : a.blockNumber! < b.blockNumber! ? -1 : 1));
      this.db.transaction(() => {
        const fresh = logs.filter((l) => markProcessed(this.db, this.opts.chainId, l));
        apply(fresh);
        this.advance(to, block.hash!);
      }).immediate();
      count += logs.length;
      cur = { number: to, hash: block.hash! };
      from = to + 1n;
    }
    return { head, target, cursor: cur?.number ?? this.opts.startBlock - 1n, logs: count };
  }


  private advance(number: bigint, hash: Hex): void {
    advanceCursor(this.db, this.opts.chainId, { number, hash }, KEEP_BLOCKS);
  }

  /**
   * Compare the cursor's hash with the chain's. On a mismatch walk back through the stored
   * hashes to the newest block still on the chain and rewind the cursor there; logs of the
   * dropped blocks are forgotten so their replacements are read again.
   */
  private async checkReorg(): Promise<Cursor | null> {
    const cur = this.cursor();
    if (!cur) return null;
    const onChain = await this.client.getBlock({ blockNumber: cur.number }).catch(() => null);
    if (onChain?.hash === cur.hash) return cur;
    let fork: Cursor | null = null;
    for (const s of blocksBelow(this.db, this.opts.chainId, cur.number)) {
      const b = await this.client.getBlock({ blockNumber: s.number }).catch(() => null);
      if (b?.hash === s.hash) { fork = s; break; }
    }
    const rewindTo = fork?.number ?? this.opts.startBlock - 1n;
    logEvent("engine.reorg", { chain_id: this.opts.chainId, cursor: String(cur.number), rewind_to: String(rewindTo), known_fork: fork !== null });
    this.db.transaction(() => {
      forgetAfter(this.db, this.opts.chainId, rewindTo, fork === null);
      if (fork) this.advance(fork.number, fork.hash);
    })();
    return fork;
  }
}
