/**
 * Owner of the nonce ledger: one next-nonce per (chain, sending key), shared by every process that
 * signs with the key (engine, serve, finalize, funds), and one row per reserved nonce that holds the
 * signed transaction once it exists. A process records its bytes here before it broadcasts them.
 */
import type { Database } from "bun:sqlite";
import { processAlive } from "../process.ts";

export type SentTxState = "reserved" | "signed" | "done" | "reverted" | "dropped";

export interface SentTx {
  chain_id: number;
  sender: string;
  nonce: number;
  purpose: string;
  owner_pid: number;
  tx_hash: string | null;
  raw_tx: string | null;
  state: SentTxState;
  created_at: number;
  updated_at: number;
}

export interface NonceKey {
  chainId: number;
  sender: string;
}

export interface Reservation extends NonceKey {
  /** What the chain already counts for the sender (its "pending" transaction count), or 0 when not read. */
  floor: number;
  purpose: string;
  /** The reserving process: a reservation whose process died before it signed is handed out again. */
  owner: number;
}

/** Purposes whose rows only serve gap repair: once their nonce is mined they are deleted. */
export const TRANSIENT_PURPOSES = ["mint", "seal", "cancel"] as const;

const lower = (a: string) => a.toLowerCase();

/**
 * Reserve the sender's next nonce in one IMMEDIATE transaction (so two processes never get the
 * same one): a nonce at or above `floor` reserved by a process that died before recording its
 * bytes is reused first; otherwise next = max(stored next, floor), and next + 1 is stored.
 */
export function reserveNonce(db: Database, r: Reservation, now = Date.now()): number {
  const sender = lower(r.sender);
  return db
    .transaction(() => {
      const abandoned = db
        .query(
          `SELECT nonce, owner_pid FROM sent_txs WHERE chain_id = ? AND sender = ? AND raw_tx IS NULL
            AND nonce >= ? AND owner_pid != ? ORDER BY nonce LIMIT 16`,
        )
        .all(r.chainId, sender, r.floor, r.owner) as Array<{ nonce: number; owner_pid: number }>;
      const reuse = abandoned.find((a) => !processAlive(a.owner_pid));
      if (reuse) {
        db.query(
          `UPDATE sent_txs SET owner_pid = ?, purpose = ?, state = 'reserved', created_at = ?, updated_at = ?
            WHERE chain_id = ? AND sender = ? AND nonce = ?`,
        ).run(r.owner, r.purpose, now, now, r.chainId, sender, reuse.nonce);
        return reuse.nonce;
      }
      const stored = db
        .query("SELECT next_nonce FROM sender_nonces WHERE chain_id = ? AND sender = ?")
        .get(r.chainId, sender) as { next_nonce: number } | null;
      const nonce = Math.max(stored?.next_nonce ?? 0, r.floor);
      db.query(
        `INSERT INTO sender_nonces (chain_id, sender, next_nonce) VALUES (?1, ?2, ?3)
          ON CONFLICT(chain_id, sender) DO UPDATE SET next_nonce = ?3`,
      ).run(r.chainId, sender, nonce + 1);
      db.query(
        `INSERT INTO sent_txs (chain_id, sender, nonce, purpose, owner_pid, state, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, 'reserved', ?, ?)`,
      ).run(r.chainId, sender, nonce, r.purpose, r.owner, now, now);
      return nonce;
    })
    .immediate();
}

/**
 * Record the signed transaction at a nonce this process holds (reserved, or signed by it before:
 * a re-priced replacement). False when the reservation was taken over (the process looked dead
 * or hung): then these bytes must not be sent.
 */
export function recordSigned(
  db: Database,
  k: NonceKey & { nonce: number; owner: number; hash: string; raw: string },
  now = Date.now(),
): boolean {
  const changed = db
    .query(
      `UPDATE sent_txs SET tx_hash = ?, raw_tx = ?, state = 'signed', updated_at = ?
        WHERE chain_id = ? AND sender = ? AND nonce = ? AND owner_pid = ?`,
    )
    .run(k.hash, k.raw, now, k.chainId, lower(k.sender), k.nonce, k.owner).changes;
  return changed === 1;
}

/**
 * Record bytes this process sends again at a nonce (a mint recovered after a restart or a reorg):
 * the row is created or taken over, since the same signed transaction is already out there.
 */
export function adoptSigned(
  db: Database,
  k: NonceKey & { nonce: number; owner: number; purpose: string; hash: string; raw: string },
  now = Date.now(),
): void {
  db.query(
    `INSERT INTO sent_txs (chain_id, sender, nonce, purpose, owner_pid, tx_hash, raw_tx, state, created_at, updated_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'signed', ?8, ?8)
      ON CONFLICT(chain_id, sender, nonce) DO UPDATE SET purpose = ?4, owner_pid = ?5, tx_hash = ?6, raw_tx = ?7,
        state = 'signed', updated_at = ?8`,
  ).run(k.chainId, lower(k.sender), k.nonce, k.purpose, k.owner, k.hash, k.raw, now);
}

/** Give a reservation back unsigned (signing failed): the next reservation of any process reuses it. */
export function releaseNonce(db: Database, k: NonceKey & { nonce: number; owner: number }): void {
  db.query(
    "UPDATE sent_txs SET owner_pid = 0 WHERE chain_id = ? AND sender = ? AND nonce = ? AND owner_pid = ? AND raw_tx IS NULL",
  ).run(k.chainId, lower(k.sender), k.nonce, k.owner);
}

/**
 * Take an unsigned reservation over to fill its nonce (its process died, or has held it longer
 * than `staleBefore`), or create the row when no process holds the nonce; atomic against a
 * late record by the old holder. True when `owner` now holds it.
 */
export function takeOverGap(
  db: Database,
  k: NonceKey & { nonce: number; owner: number; purpose: string },
  staleBefore: number,
  now = Date.now(),
): boolean {
  const sender = lower(k.sender);
  return db
    .transaction(() => {
      const row = txAt(db, k);
      if (row && (row.raw_tx !== null || (processAlive(row.owner_pid) && row.created_at > staleBefore))) return false;
      db.query(
        `INSERT INTO sent_txs (chain_id, sender, nonce, purpose, owner_pid, state, created_at, updated_at)
          VALUES (?1, ?2, ?3, ?4, ?5, 'reserved', ?6, ?6)
          ON CONFLICT(chain_id, sender, nonce) DO UPDATE SET purpose = ?4, owner_pid = ?5, state = 'reserved',
            created_at = ?6, updated_at = ?6`,
      ).run(k.chainId, sender, k.nonce, k.purpose, k.owner, now);
      return true;
    })
    .immediate();
}

export function txAt(db: Database, k: NonceKey & { nonce: number }): SentTx | null {
  return db
    .query("SELECT * FROM sent_txs WHERE chain_id = ? AND sender = ? AND nonce = ?")
    .get(k.chainId, lower(k.sender), k.nonce) as SentTx | null;
}

/** The stored next nonce (null before the sender's first reservation on this chain). */
export function storedNextNonce(db: Database, k: NonceKey): number | null {
  const row = db
    .query("SELECT next_nonce FROM sender_nonces WHERE chain_id = ? AND sender = ?")
    .get(k.chainId, lower(k.sender)) as { next_nonce: number } | null;
  return row?.next_nonce ?? null;
}

/** The newest signed transaction recorded for `purpose` that may still land or has landed (not dropped/reverted). */
export function liveTxFor(db: Database, purpose: string): SentTx | null {
  return db
    .query(
      `SELECT * FROM sent_txs WHERE purpose = ? AND raw_tx IS NOT NULL AND state IN ('signed', 'done')
        ORDER BY created_at DESC LIMIT 1`,
    )
    .get(purpose) as SentTx | null;
}

export function setTxState(db: Database, hash: string, state: SentTxState, now = Date.now()): void {
  db.query("UPDATE sent_txs SET state = ?, updated_at = ? WHERE tx_hash = ?").run(state, now, hash);
}

/** Forget engine-internal rows whose nonce the chain has used (`below` = its mined count); setup and serve rows stay. */
export function pruneMined(db: Database, k: NonceKey, below: number): void {
  db.query(
    `DELETE FROM sent_txs WHERE chain_id = ? AND sender = ? AND nonce < ?
      AND purpose IN (${TRANSIENT_PURPOSES.map(() => "?").join(", ")})`,
  ).run(k.chainId, lower(k.sender), below, ...TRANSIENT_PURPOSES);
}
