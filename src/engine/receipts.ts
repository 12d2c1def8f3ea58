/** Receipts of every mint in flight, looked up together: one JSON-RPC batch per interval, not one poll per transaction. */
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

  constructor(
    private readonly rpc: RpcBatcher,
    private readonly intervalMs: number,
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
    const all = [...new Set(batch.flatMap((w) => w.hashes))];
    const found = new Map<Hex, TransactionReceipt>();
    try {
      for (let i = 0; i < all.length; i += READ_BATCH) {
        const slice = all.slice(i, i + READ_BATCH);
        const { answers } = await this.rpc.batch(
          slice.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
        );
        answers.forEach((a, k) => {
          if (a.result) found.set(slice[k]!, formatTransactionReceipt(a.result as never) as TransactionReceipt);
        });
      }
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    for (const w of batch) w.resolve(w.hashes.map((h) => found.get(h)).find((r) => r) ?? null);
  }
}
