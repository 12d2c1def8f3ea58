/** Fees and head for the engine's transactions, read once per interval and shared by every mint in flight. */
import { hexToBigInt, type Hex } from "viem";
import { BlockhostError } from "../core/errors.ts";
import type { RpcBatcher } from "./log-reader.ts";

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

interface Reading {
  at: number;
  head: bigint;
  fees: Fees;
}

/**
 * Twice the latest block's base fee plus the node's suggested tip, and that block's number, from
 * one node in one batch. The cap is what a transaction may pay, not what it pays (base fee + tip):
 * the engine's own burst fills blocks, and each full block raises the base fee by 12.5 %, so the
 * ×1.2 of viem's estimateFeesPerGas is outgrown in two blocks and every mint sent before then waits
 * unmineable until blocks empty again; ×2 holds for six full blocks. A reading is reused for
 * `maxAgeMs`; callers arriving while it is being read share the same request.
 */
export class FeeCache {
  private reading: Reading | null = null;
  private loading: Promise<Reading> | null = null;

  constructor(
    private readonly rpc: RpcBatcher,
    private readonly maxAgeMs: number,
  ) {}

  /** Current fees scaled by `percent` (a re-price asks for more than 100) and a recent head. */
  async current(percent = 100n): Promise<{ head: bigint; fees: Fees }> {
    const r = await this.read();
    return {
      head: r.head,
      fees: {
        maxFeePerGas: (r.fees.maxFeePerGas * percent) / 100n,
        maxPriorityFeePerGas: (r.fees.maxPriorityFeePerGas * percent) / 100n,
      },
    };
  }

  private async read(): Promise<Reading> {
    if (this.reading && Date.now() - this.reading.at < this.maxAgeMs) return this.reading;
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return await this.loading;
  }

  private async load(): Promise<Reading> {
    const { answers } = await this.rpc.batch([
      { method: "eth_getBlockByNumber", params: ["latest", false] },
      { method: "eth_maxPriorityFeePerGas", params: [] },
    ]);
    const [block, tip] = answers;
    if (!block?.result || tip?.error || tip?.result === undefined) {
      throw new BlockhostError(
        "E_CHAIN",
        `read fees: ${block?.error?.message ?? tip?.error?.message ?? "no latest block"}`,
      );
    }
    const b = block.result as { number: Hex; baseFeePerGas?: Hex };
    const priority = hexToBigInt(tip.result as Hex);
    const base = b.baseFeePerGas ? hexToBigInt(b.baseFeePerGas) : 0n;
    this.reading = {
      at: Date.now(),
      head: hexToBigInt(b.number),
      fees: { maxFeePerGas: base * 2n + priority, maxPriorityFeePerGas: priority },
    };
    return this.reading;
  }
}
