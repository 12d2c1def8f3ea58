// Fund-manager state: interval timers, the no-overlap lease and the record of every signed transfer.
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";

export type FundTimer = "fund_cycle" | "gas_check";

export interface TimerRow {
  name: FundTimer;
  last_at: number;
  retry_at: number | null;
}

export function readTimer(db: Database, name: FundTimer): TimerRow {
  const row = db.query("SELECT name, last_at, retry_at FROM fund_timers WHERE name = ?").get(name) as TimerRow | null;
  return row ?? { name, last_at: 0, retry_at: null };
}

/** A completed run: the interval restarts from `at` and any retry time is cleared. */
export function markTimerDone(db: Database, name: FundTimer, at: number): void {
  db.query(
    "INSERT INTO fund_timers (name, last_at, retry_at) VALUES (?1, ?2, NULL) ON CONFLICT(name) DO UPDATE SET last_at = ?2, retry_at = NULL",
  ).run(name, at);
}

/** A failed run: try again at `retryAt` (the interval itself is not restarted). */
export function markTimerRetry(db: Database, name: FundTimer, retryAt: number): void {
  db.query(
    "INSERT INTO fund_timers (name, last_at, retry_at) VALUES (?1, 0, ?2) ON CONFLICT(name) DO UPDATE SET retry_at = ?2",
  ).run(name, retryAt);
}

/**
 * Take the fund lease for `holder` until `expiresAt` (ms); false while another holder has an
 * unexpired lease. The engine and a `blockhost funds run` share one database, so this keeps
 * their cycles from overlapping. `holderGone` lets a lease whose holder died be taken at once.
 */
export function takeFundLease(
  db: Database,
  holder: string,
  now: number,
  expiresAt: number,
  holderGone: (holder: string) => boolean = () => false,
): boolean {
  return db
    .transaction(() => {
      const row = db.query("SELECT holder, expires_at FROM fund_lease WHERE id = 1").get() as {
        holder: string;
        expires_at: number;
      } | null;
      if (row && row.holder !== holder && row.expires_at > now && !holderGone(row.holder)) return false;
      db.query(
        "INSERT INTO fund_lease (id, holder, expires_at) VALUES (1, ?1, ?2) ON CONFLICT(id) DO UPDATE SET holder = ?1, expires_at = ?2",
      ).run(holder, expiresAt);
      return true;
    })
    .immediate();
}

export function releaseFundLease(db: Database, holder: string): void {
  db.query("DELETE FROM fund_lease WHERE id = 1 AND holder = ?").run(holder);
}

export type TransferState = "signed" | "done" | "reverted" | "dropped";

export interface TransferRow {
  id: number;
  cycle: string;
  step: string;
  token: string;
  from_address: Hex;
  to_address: Hex;
  amount: string;
  nonce: number;
  tx_hash: Hex;
  raw_tx: Hex;
  state: TransferState;
  created_at: string;
  updated_at: string;
}

export type NewTransfer = Pick<
  TransferRow,
  "cycle" | "step" | "token" | "from_address" | "to_address" | "amount" | "nonce" | "tx_hash" | "raw_tx"
>;

/** Record a signed transaction before it is broadcast, so a crash can never send it blind twice. */
export function recordTransfer(db: Database, t: NewTransfer): void {
  const now = new Date().toISOString();
  db.query(`INSERT INTO fund_transfers (cycle, step, token, from_address, to_address, amount, nonce, tx_hash, raw_tx, state, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed', ?, ?)`).run(
    t.cycle,
    t.step,
    t.token,
    t.from_address,
    t.to_address,
    t.amount,
    t.nonce,
    t.tx_hash,
    t.raw_tx,
    now,
    now,
  );
}

export function setTransferState(db: Database, txHash: Hex, state: TransferState): void {
  db.query("UPDATE fund_transfers SET state = ?, updated_at = ? WHERE tx_hash = ?").run(
    state,
    new Date().toISOString(),
    txHash,
  );
}

/** Transfers signed but not yet known to be mined or dropped (after a crash or an RPC failure). */
export function pendingTransfers(db: Database): TransferRow[] {
  return db.query("SELECT * FROM fund_transfers WHERE state = 'signed' ORDER BY id").all() as TransferRow[];
}

export function recentTransfers(db: Database, limit = 20): TransferRow[] {
  return db.query("SELECT * FROM fund_transfers ORDER BY id DESC LIMIT ?").all(limit) as TransferRow[];
}
