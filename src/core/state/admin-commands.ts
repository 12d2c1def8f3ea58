// Admin-command state: seen nonces (replay protection), the scanned-block cursor and knock sessions.
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";

/**
 * Record a nonce; false when it was already seen. Called before the command runs, so a crash
 * during the command can never let the same transaction run it again.
 */
export function claimNonce(db: Database, nonce: string, commandTs: number, txHash: Hex, now: number): boolean {
  return (
    db
      .query("INSERT OR IGNORE INTO admin_nonces (nonce, command_ts, tx_hash, seen_at) VALUES (?, ?, ?, ?)")
      .run(nonce, commandTs, txHash, now).changes === 1
  );
}

/** Forget nonces whose command is too old to be accepted anyway. */
export function pruneNonces(db: Database, olderThanTs: number): number {
  return db.query("DELETE FROM admin_nonces WHERE command_ts < ?").run(olderThanTs).changes;
}

export interface ScannedBlock {
  number: number;
  hash: Hex;
}

/** How many scanned block hashes are kept to find the fork point after a reorg. */
const KEEP_SCANNED = 256;

export function scanCursor(db: Database, chainId: number): ScannedBlock | null {
  return db
    .query(
      "SELECT block_number AS number, block_hash AS hash FROM admin_scan WHERE chain_id = ? ORDER BY block_number DESC LIMIT 1",
    )
    .get(chainId) as ScannedBlock | null;
}

export function scannedBlocks(db: Database, chainId: number): ScannedBlock[] {
  return db
    .query(
      "SELECT block_number AS number, block_hash AS hash FROM admin_scan WHERE chain_id = ? ORDER BY block_number DESC",
    )
    .all(chainId) as ScannedBlock[];
}

export function recordScanned(db: Database, chainId: number, blocks: readonly ScannedBlock[]): void {
  db.transaction(() => {
    const put = db.query("INSERT OR REPLACE INTO admin_scan (chain_id, block_number, block_hash) VALUES (?, ?, ?)");
    for (const b of blocks) put.run(chainId, b.number, b.hash);
    const top = blocks.at(-1)?.number;
    if (top !== undefined)
      db.query("DELETE FROM admin_scan WHERE chain_id = ? AND block_number <= ?").run(chainId, top - KEEP_SCANNED);
  })();
}

/** Forget scanned blocks above `number` (a reorg replaced them); they are scanned again. */
export function rewindScan(db: Database, chainId: number, number: number): void {
  db.query("DELETE FROM admin_scan WHERE chain_id = ? AND block_number > ?").run(chainId, number);
}

export interface KnockRule {
  port: number;
  proto: "tcp" | "udp";
  source?: string;
}
export type KnockPhase = "open" | "narrowed" | "closed";

export interface Knock {
  id: number;
  txHash: Hex;
  command: string;
  phase: KnockPhase;
  /** Every rule that may be in place now: closing a knock removes all of them. */
  rules: KnockRule[];
  source: string | null;
  deadline: number;
  openedAt: number;
  loginCursor: number;
}

interface KnockRow {
  id: number;
  tx_hash: Hex;
  command: string;
  phase: KnockPhase;
  rules: string;
  source: string | null;
  deadline: number;
  opened_at: number;
  login_cursor: number;
}

const toKnock = (r: KnockRow): Knock => ({
  id: r.id,
  txHash: r.tx_hash,
  command: r.command,
  phase: r.phase,
  rules: JSON.parse(r.rules) as KnockRule[],
  source: r.source,
  deadline: r.deadline,
  openedAt: r.opened_at,
  loginCursor: r.login_cursor,
});

/** Persist a knock before any rule is added, so a crash part-way still gets every rule closed. */
export function insertKnock(db: Database, k: Omit<Knock, "id" | "phase">): number {
  return Number(
    db
      .query(
        "INSERT INTO knocks (tx_hash, command, phase, rules, source, deadline, opened_at, login_cursor) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
      )
      .run(k.txHash, k.command, JSON.stringify(k.rules), k.source, k.deadline, k.openedAt, k.loginCursor)
      .lastInsertRowid,
  );
}

export function knockByTx(db: Database, txHash: Hex): Knock | null {
  const r = db.query("SELECT * FROM knocks WHERE tx_hash = ?").get(txHash) as KnockRow | null;
  return r ? toKnock(r) : null;
}

export function liveKnocks(db: Database): Knock[] {
  return (db.query("SELECT * FROM knocks WHERE phase != 'closed' ORDER BY id").all() as KnockRow[]).map(toKnock);
}

export function updateKnock(
  db: Database,
  id: number,
  change: Partial<Pick<Knock, "phase" | "rules" | "source" | "loginCursor">>,
): void {
  const r = db.query("SELECT * FROM knocks WHERE id = ?").get(id) as KnockRow | null;
  if (!r) return;
  const k = { ...toKnock(r), ...change };
  db.query("UPDATE knocks SET phase = ?, rules = ?, source = ?, login_cursor = ?, closed_at = ? WHERE id = ?").run(
    k.phase,
    JSON.stringify(k.rules),
    k.source,
    k.loginCursor,
    k.phase === "closed" ? Date.now() : null,
    id,
  );
}
