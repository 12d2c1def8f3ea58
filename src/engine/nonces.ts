/** Local nonce assignment for the minting key, so mints are sent without waiting for each other's receipts. */
import { hexToBigInt, type Hex } from "viem";
import type { RpcPool } from "../chain/rpc-pool.ts";

/**
 * One per sending key. The first nonce is the higher of the chain's pending count and the
 * highest nonce recorded in an unfinished mint intent + 1 (so a restart never reuses one);
 * then each mint takes the next. After a send that found its nonce used (another sender, or a
 * stale count) the manager re-reads the chain. A gap left by a transaction that never arrived
 * is filled by its own job, which re-broadcasts the recorded bytes at that nonce.
 */
export class NonceManager {
  private nextNonce: number | null = null;
  private loading: Promise<number> | null = null;
  /** Signed bytes of every mint this process sent and has not seen settled, by nonce. */
  private readonly unsettled = new Map<number, Hex>();

  constructor(
    private readonly rpc: RpcPool,
    private readonly address: Hex,
    private readonly highestRecorded: () => number | null,
  ) {}

  /** Whether this manager assigns the nonces of `address` (other senders must take theirs from it). */
  owns(address: Hex): boolean {
    return address.toLowerCase() === this.address.toLowerCase();
  }

  async next(): Promise<number> {
    if (this.nextNonce === null) {
      this.loading ??= this.load();
      try {
        const n = await this.loading;
        this.nextNonce ??= n;
      } finally {
        this.loading = null;
      }
    }
    return this.nextNonce!++;
  }

  /** Remember a mint's signed bytes until it settles (mined, or proven absent). */
  sent(nonce: number, raw: Hex): void {
    this.unsettled.set(nonce, raw);
  }

  settled(nonce: number | null): void {
    if (nonce !== null) this.unsettled.delete(nonce);
  }

  /**
   * The bytes for the nonce the chain waits on, when a mint of ours holds it (its job failed
   * and backs off, or its transaction was dropped): every later mint is stuck behind that gap.
   */
  async gap(): Promise<Hex | null> {
    if (this.unsettled.size === 0) return null;
    const used = Number(
      hexToBigInt((await this.rpc.request("eth_getTransactionCount", [this.address, "latest"])) as Hex),
    );
    for (const n of [...this.unsettled.keys()]) if (n < used) this.unsettled.delete(n);
    return this.unsettled.get(used) ?? null;
  }

  /** Forget the local count: the next mint starts from the chain again. */
  resync(): void {
    this.nextNonce = null;
  }

  private async load(): Promise<number> {
    const pending = Number(
      hexToBigInt((await this.rpc.request("eth_getTransactionCount", [this.address, "pending"])) as Hex),
    );
    const recorded = this.highestRecorded();
    return Math.max(pending, recorded === null ? 0 : recorded + 1);
  }
}
