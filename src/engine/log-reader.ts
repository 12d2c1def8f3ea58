/** Proven, chunked log reads: each range's logs come with proof that the answering node had its last block. */
import { formatLog, numberToHex, type Hex, type Log } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { isRateLimit, type RpcAnswer, type RpcCall } from "../chain/rpc-pool.ts";

/** What the reader needs from the RPC layer (the engine's RpcPool; tests may script it). */
export interface RpcBatcher {
  batch(calls: RpcCall[]): Promise<{ answers: RpcAnswer[]; provider: string }>;
  noteLag?(provider: string, blocks: number): void;
}

export interface LogFilter {
  address: Hex;
  /** eth_getLogs topics (null = any), e.g. [eventSignature, null, null, recipientTopic]. */
  topics?: Array<Hex | Hex[] | null>;
}

/** Providers phrase "your block range is too large" in many ways; all mean: ask for less. A rate limit is not one. */
export function isRangeError(e: unknown): boolean {
  if (isRateLimit(e)) return false;
  const text = `${(e as { details?: string })?.details ?? ""} ${(e as Error)?.message ?? e}`;
  return /range|too many|limit|exceed|more than \d+|response size|query timeout|block range/i.test(text);
}

/** Successes at one chunk size before it is doubled again (towards the configured cap). */
const GROW_AFTER = 4;
/** Successes before a size the provider refused is tried again (its limit may have been transient). */
const PROBE_AFTER = 64;

/**
 * The getLogs block-range cap in force: starts at the configured cap, halves on a provider's range
 * error, and grows back after a run of successes (a transient refusal must not shrink it for good),
 * up to just below a size that was refused until a later probe.
 */
export class RangeCap {
  size: number;
  private streak = 0;
  private refused = Infinity;

  constructor(readonly max: number) {
    this.size = max;
  }

  /** Halve after a range error; false when already at one block (the error is not about the range). */
  shrink(): boolean {
    this.streak = 0;
    if (this.size <= 1) return false;
    this.refused = Math.min(this.refused, this.size);
    this.size = Math.max(1, Math.floor(this.size / 2));
    return true;
  }

  succeeded(): void {
    if (this.size >= this.max) return;
    this.streak++;
    const next = Math.min(this.max, this.size * 2);
    if (this.streak >= PROBE_AFTER) this.refused = Infinity;
    if (this.streak < GROW_AFTER || next >= this.refused) return;
    this.streak = 0;
    this.size = next;
  }
}

/** The node that answered did not have a block the answer depends on (a lagging backend): retry, never act on it. */
export function laggingProvider(message: string): BlockhostError {
  return new BlockhostError("E_CHAIN", message, { lagging: true });
}

export const isLagging = (e: unknown): boolean => e instanceof BlockhostError && e.details?.lagging === true;

export interface ProvenRange {
  logs: Log[];
  /** Hash of the range's last block, from the same node that returned the logs. */
  toHash: Hex;
}

/**
 * Read the logs of [from, to] and block `to` in ONE JSON-RPC batch (one HTTP request, one node).
 * A node behind `to` answers the block as null: that read proves nothing and is refused (retry),
 * so an empty answer from a lagging backend can never move the cursor past a purchase.
 */
export async function readProvenRange(
  rpc: RpcBatcher,
  filter: LogFilter,
  from: bigint,
  to: bigint,
): Promise<ProvenRange> {
  const { answers, provider } = await rpc.batch([
    {
      method: "eth_getLogs",
      params: [
        { address: filter.address, topics: filter.topics, fromBlock: numberToHex(from), toBlock: numberToHex(to) },
      ],
    },
    { method: "eth_getBlockByNumber", params: [numberToHex(to), false] },
  ]);
  const [logsAnswer, blockAnswer] = answers as [RpcAnswer, RpcAnswer];
  if (logsAnswer.error) {
    throw new BlockhostError("E_CHAIN", `getLogs ${from}..${to}: ${logsAnswer.error.message}`, {
      rpc_code: logsAnswer.error.code,
    });
  }
  const block = blockAnswer.result as { hash: Hex; number: Hex } | null | undefined;
  if (blockAnswer.error || !block?.hash) {
    rpc.noteLag?.(provider, 1);
    throw laggingProvider(
      `the node that answered getLogs ${from}..${to} does not have block ${to} yet (lagging backend); not advancing`,
    );
  }
  const logs = (logsAnswer.result as Record<string, unknown>[]).map((l) => formatLog(l as never) as Log);
  for (const l of logs) {
    const n = l.blockNumber ?? -1n;
    if (n < from || n > to || (n === to && l.blockHash !== block.hash)) {
      throw new BlockhostError(
        "E_CHAIN",
        `getLogs ${from}..${to} returned a log of block ${n} that does not belong (inconsistent node); retrying`,
      );
    }
  }
  logs.sort((a, b) =>
    a.blockNumber === b.blockNumber ? (a.logIndex ?? 0) - (b.logIndex ?? 0) : a.blockNumber! < b.blockNumber! ? -1 : 1,
  );
  return { logs, toHash: block.hash };
}

/**
 * One proven chunk starting at `from` (ending at `to` at the latest), shrinking the cap on range
 * errors until the provider accepts; returns the chunk's end with its logs.
 */
export async function readChunk(
  rpc: RpcBatcher,
  cap: RangeCap,
  filter: LogFilter,
  from: bigint,
  to: bigint,
): Promise<ProvenRange & { end: bigint }> {
  for (;;) {
    const end = from + BigInt(cap.size) - 1n < to ? from + BigInt(cap.size) - 1n : to;
    try {
      const r = await readProvenRange(rpc, filter, from, end);
      cap.succeeded();
      return { ...r, end };
    } catch (e) {
      if (!isLagging(e) && isRangeError(e) && cap.shrink()) {
        logEvent("engine.getlogs_range_halved", { from: String(from), to: String(end), chunk: cap.size });
        continue;
      }
      throw e;
    }
  }
}

export interface ScanResult {
  /** Where the next pass continues (to + 1 when the scan is complete). */
  next: bigint;
  done: boolean;
}

/**
 * Search history [from, to] in proven chunks within the range cap, handing each chunk's logs to
 * `onLogs` (which may stop the scan by returning true), until done or `deadline` (ms epoch):
 * resumable from `next`, so a long search spans several passes and never one huge request.
 */
export async function scanLogs(
  rpc: RpcBatcher,
  cap: RangeCap,
  filter: LogFilter,
  range: { from: bigint; to: bigint; deadline: number },
  onLogs: (logs: Log[]) => boolean,
): Promise<ScanResult> {
  let from = range.from;
  while (from <= range.to) {
    const r = await readChunk(rpc, cap, filter, from, range.to);
    from = r.end + 1n;
    if (onLogs(r.logs) === true) return { next: from, done: true };
    if (Date.now() >= range.deadline && from <= range.to) return { next: from, done: false };
  }
  return { next: from, done: true };
}
