/** The `chain_cursor`, `chain_blocks` and `processed_logs` tables: how far the log watcher got. */
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";

export interface StoredBlock {
  number: bigint;
  hash: Hex;
}

/** A log's identity as the watcher records it. */
export interface ProcessedLog {
  txHash: Hex;
  logIndex: number;
  blockNumber: bigint;
  event: string;
}

export function readCursor(db: Database, chainId: number): StoredBlock | null {
  const r = db.query("SELECT block_number, block_hash FROM chain_cursor WHERE chain_id = ?").get(chainId) as {
    block_number: number;
    block_hash: Hex;
  } | null;
  return r ? { number: BigInt(r.block_number), hash: r.block_hash } : null;
}

/** Move the cursor to `block`, remember its hash, and forget hashes older than `keep` blocks. */
export function advanceCursor(db: Database, chainId: number, block: StoredBlock, keep: bigint): void {
  db.query(
    "INSERT INTO chain_cursor (chain_id, block_number, block_hash) VALUES (?1, ?2, ?3) ON CONFLICT(chain_id) DO UPDATE SET block_number = ?2, block_hash = ?3",
  ).run(chainId, Number(block.number), block.hash);
  db.query("INSERT OR REPLACE INTO chain_blocks (chain_id, block_number, block_hash) VALUES (?, ?, ?)").run(
    chainId,
    Number(block.number),
    block.hash,
  );
  db.query("DELETE FROM chain_blocks WHERE chain_id = ? AND block_number < ?").run(
    chainId,
    Number(block.number - keep),
  );
}

/** Stored block hashes below `below`, newest first (to find the fork point of a reorg). */
export function blocksBelow(db: Database, chainId: number, below: bigint): StoredBlock[] {
  const rows = db
    .query(
      "SELECT block_number, block_hash FROM chain_blocks WHERE chain_id = ? AND block_number < ? ORDER BY block_number DESC",
    )
    .all(chainId, Number(below)) as { block_number: number; block_hash: Hex }[];
  return rows.map((r) => ({ number: BigInt(r.block_number), hash: r.block_hash }));
}

/** Forget everything recorded after `block` (a reorg); with `dropCursor` the cursor goes too. */
export function forgetAfter(db: Database, chainId: number, block: bigint, dropCursor: boolean): void {
  db.query("DELETE FROM processed_logs WHERE chain_id = ? AND block_number > ?").run(chainId, Number(block));
  db.query("DELETE FROM chain_blocks WHERE chain_id = ? AND block_number > ?").run(chainId, Number(block));
  if (dropCursor) db.query("DELETE FROM chain_cursor WHERE chain_id = ?").run(chainId);
}

/** Record a log as applied; false when it already was (a replay). */
export function recordProcessedLog(db: Database, chainId: number, log: ProcessedLog): boolean {
  return (
    db
      .query(
        "INSERT OR IGNORE INTO processed_logs (chain_id, tx_hash, log_index, block_number, event) VALUES (?, ?, ?, ?, ?)",
      )
      .run(chainId, log.txHash, log.logIndex, Number(log.blockNumber), log.event).changes === 1
  );
}
