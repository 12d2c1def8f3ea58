/** Receipts of every mint in flight, looked up together: one JSON-RPC batch per new block, not one poll per transaction. */
import { formatTransactionReceipt, type Hex, type TransactionReceipt } from "viem";
import type { RpcBatcher } from "./log-reader.ts";
import { READ_BATCH } from "./chain-reads.ts";

interface Waiter {
  hashes: Hex[];
  resolve(r: TransactionReceipt | null): void;
  reject(e: unknown): void;
}

export class ReceiptBatcher {
  private waiting: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The head at which each waited-on hash was last looked up: no new block, no new receipt to find. */
  private checkedAt = new Map<Hex, bigint>();

  constructor(
    private readonly rpc: RpcBatcher,
    private readonly intervalMs: number,
    private readonly head: () => Promise<bigint>,
  ) {}

  /** The receipt of any of `hashes` at the next lookup round, or null when none is mined yet. */
  next(hashes: Hex[]): Promise<TransactionReceipt | null> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ hashes, resolve, reject });
      this.timer ??= setTimeout(() => void this.round(), this.intervalMs);
    });
  }

  private async round(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    this.timer = null;
    const found = new Map<Hex, TransactionReceipt>();
    try {
      const head = await this.head();
      const all = [...new Set(batch.flatMap((w) => w.hashes))];
      // Hashes already looked up at this head are skipped; those no longer waited on are forgotten.
      const due = all.filter((h) => this.checkedAt.get(h) !== head);
      this.checkedAt = new Map(all.map((h) => [h, head]));
      for (let i = 0; i < due.length; i += READ_BATCH) {
        const slice = due.slice(i, i + READ_BATCH);
        const { answers } = await this.rpc.batch(
          slice.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
        );
        answers.forEach((a, k) => {
          if (a.result) found.set(slice[k]!, formatTransactionReceipt(a.result as never) as TransactionReceipt);
        });
      }
    } catch (e) {
      this.checkedAt.clear();
      for (const w of batch) w.reject(e);
      return;
    }
    for (const w of batch) w.resolve(w.hashes.map((h) => found.get(h)).find((r) => r) ?? null);
  }
}
