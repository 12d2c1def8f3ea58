/** The engine's side of the shared nonce ledger for the minting key: cheap reservations for mints, and gap repair for every process. */
import type { Database } from "bun:sqlite";
import { hexToBigInt, keccak256, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { RpcPool } from "../chain/rpc-pool.ts";
import { logEvent } from "../core/log.ts";
import {
  adoptSigned,
  pruneMined,
  recordSigned,
  reserveNonce,
  storedNextNonce,
  takeOverGap,
  txAt,
} from "../core/state/nonces.ts";
import type { FeeCache } from "./fees.ts";
import { broadcast } from "./broadcast.ts";

/** A reservation without signed bytes this old is abandoned even when its process still runs (hung). */
export const STALE_RESERVATION_MS = 30_000;
const TRANSFER_GAS = 21_000n;

export interface NonceManagerDeps {
  rpc: RpcPool;
  db: Database;
  chainId: number;
  account: PrivateKeyAccount;
  fees: FeeCache;
  /** The highest nonce of a mint intent still in flight (databases from before the ledger). */
  highestRecorded: () => number | null;
}

/**
 * One per engine, for the minting key, which serve (plan writes, withdrawals), finalize and the
 * fund manager also sign with. Every nonce is reserved in the database ledger in one small
 * IMMEDIATE transaction (no blocks: a crash then leaves no run of unused nonces behind, only
 * the one in hand), with the chain's pending count read once as the floor and again after a
 * refused send. Gap repair covers every process's reservations: when the chain waits on a nonce
 * whose bytes are recorded, they are broadcast again; when no process recorded bytes for it (its
 * reserver died, or hung for STALE_RESERVATION_MS), a 0-value transfer to itself fills it.
 */
export class NonceManager {
  private floor: number | null = null;
  private loading: Promise<number> | null = null;
  /** Signed bytes of every mint this process sent and has not seen settled, by nonce. */
  private readonly unsettled = new Map<number, Hex>();
  /** A nonce the chain waits on that no row covers, and since when (filled only if it stays so). */
  private unclaimed: { nonce: number; since: number } | null = null;

  constructor(private readonly d: NonceManagerDeps) {}

  private get key() {
    return { chainId: this.d.chainId, sender: this.d.account.address, owner: process.pid };
  }

  /** Whether this manager reserves the nonces of `address`. */
  owns(address: Hex): boolean {
    return address.toLowerCase() === this.d.account.address.toLowerCase();
  }

  /** Reserve the next nonce for a transaction of `purpose` ("mint", "seal"). */
  async next(purpose = "mint"): Promise<number> {
    if (this.floor === null) {
      this.loading ??= this.load();
      try {
        const floor = await this.loading;
        this.floor ??= floor;
      } finally {
        this.loading = null;
      }
    }
    return reserveNonce(this.d.db, { ...this.key, floor: this.floor, purpose });
  }

  /**
   * Remember signed bytes at a nonce until they settle (mined, or proven absent), here and in the
   * ledger; `alsoRecord` (the mint's own intent) is written in the same database transaction.
   */
  sent(nonce: number, raw: Hex, purpose = "mint", alsoRecord?: () => void): void {
    this.d.db.transaction(() => {
      alsoRecord?.();
      adoptSigned(this.d.db, { ...this.key, nonce, purpose, hash: keccak256(raw), raw });
    })();
    this.unsettled.set(nonce, raw);
  }

  settled(nonce: number | null): void {
    if (nonce !== null) this.unsettled.delete(nonce);
  }

  /** Forget the floor: the next reservation reads the chain's pending count again. */
  resync(): void {
    this.floor = null;
  }

  /**
   * Unblock the nonce the chain waits on, when a transaction of any process should be there:
   * re-broadcast its recorded bytes (unless they are `except`, which the caller just sent), or
   * cancel an abandoned reservation. Later transactions of this key are stuck behind it.
   */
  async repairGap(except?: Hex): Promise<void> {
    const used = await this.count("latest");
    pruneMined(this.d.db, this.key, used);
    for (const n of [...this.unsettled.keys()]) if (n < used) this.unsettled.delete(n);
    const stored = storedNextNonce(this.d.db, this.key);
    if (stored === null || used >= stored) return;
    const row = txAt(this.d.db, { ...this.key, nonce: used });
    const raw = this.unsettled.get(used) ?? (row?.raw_tx as Hex | null | undefined);
    if (raw) {
      if (raw === except) return;
      logEvent("engine.nonce_gap_filled", { nonce: used, tx: keccak256(raw), purpose: row?.purpose ?? null });
      await broadcast(this.d.rpc, raw, "re-send a transaction the chain waits on");
      return;
    }
    if (!row) {
      if (this.unclaimed?.nonce !== used) this.unclaimed = { nonce: used, since: Date.now() };
      if (Date.now() - this.unclaimed.since < STALE_RESERVATION_MS) return;
    }
    if (!takeOverGap(this.d.db, { ...this.key, nonce: used, purpose: "cancel" }, Date.now() - STALE_RESERVATION_MS))
      return;
    await this.cancel(used, row?.purpose ?? null, row?.owner_pid ?? null);
  }

  /** Fill `nonce` with a 0-value transfer to itself (what wallets call cancelling), recorded before it is sent. */
  private async cancel(nonce: number, was: string | null, owner: number | null): Promise<void> {
    const { fees } = await this.d.fees.current();
    const raw = await this.d.account.signTransaction({
      chainId: this.d.chainId,
      type: "eip1559",
      to: this.d.account.address,
      value: 0n,
      gas: TRANSFER_GAS,
      nonce,
      ...fees,
    });
    const hash = keccak256(raw);
    if (!recordSigned(this.d.db, { ...this.key, nonce, hash, raw })) return;
    logEvent("engine.nonce_gap_cancelled", { nonce, tx: hash, reserved_for: was, reserver_pid: owner });
    await broadcast(this.d.rpc, raw, "fill a nonce gap");
  }

  private async count(tag: "latest" | "pending"): Promise<number> {
    const n = await this.d.rpc.request("eth_getTransactionCount", [this.d.account.address, tag]);
    return Number(hexToBigInt(n as Hex));
  }

  private async load(): Promise<number> {
    const recorded = this.d.highestRecorded();
    return Math.max(await this.count("pending"), recorded === null ? 0 : recorded + 1);
  }
}
