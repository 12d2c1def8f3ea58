/** The `subscriptions` table: subscriptions as recorded from the contract's logs. */
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";

/** A subscription as recorded from its SubscriptionCreated log. */
export interface SubscriptionRow {
  subscription_id: number;
  subscriber: Hex;
  plan_id: number;
  expires_at: number;
  cancelled: number;
  user_encrypted: Hex;
  block_number: number;
  tx_hash: Hex;
}

export function getSubscription(db: Database, chainId: number, id: number): SubscriptionRow | null {
  return db
    .query("SELECT * FROM subscriptions WHERE chain_id = ? AND subscription_id = ?")
    .get(chainId, id) as SubscriptionRow | null;
}

/** Record (or re-record, after a reorg) a SubscriptionCreated log. */
export function recordSubscriptionCreated(db: Database, chainId: number, s: Omit<SubscriptionRow, "cancelled">): void {
  db.query(`INSERT INTO subscriptions (chain_id, subscription_id, subscriber, plan_id, expires_at, cancelled,
      user_encrypted, block_number, tx_hash)
    VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8)
    ON CONFLICT(chain_id, subscription_id) DO UPDATE SET subscriber = ?3, plan_id = ?4, expires_at = ?5,
      user_encrypted = ?6, block_number = ?7, tx_hash = ?8`).run(
    chainId,
    s.subscription_id,
    s.subscriber,
    s.plan_id,
    s.expires_at,
    s.user_encrypted,
    s.block_number,
    s.tx_hash,
  );
}

/** Move the expiry forward (never back: logs may be replayed out of order). */
export function extendSubscription(db: Database, chainId: number, id: number, expiresAt: number): void {
  db.query("UPDATE subscriptions SET expires_at = MAX(expires_at, ?) WHERE chain_id = ? AND subscription_id = ?").run(
    expiresAt,
    chainId,
    id,
  );
}

export function cancelSubscription(db: Database, chainId: number, id: number): void {
  db.query("UPDATE subscriptions SET cancelled = 1 WHERE chain_id = ? AND subscription_id = ?").run(chainId, id);
}

/** Ids of subscriptions not cancelled and expiring after `nowSec`. */
export function liveSubscriptionIds(db: Database, chainId: number, nowSec: number): number[] {
  const rows = db
    .query("SELECT subscription_id FROM subscriptions WHERE chain_id = ? AND cancelled = 0 AND expires_at > ?")
    .all(chainId, nowSec) as { subscription_id: number }[];
  return rows.map((r) => r.subscription_id);
}

/** The block each recorded subscription was created in, by id (bounds the search for a missed one). */
export function subscriptionBlocks(db: Database, chainId: number): Map<number, bigint> {
  const rows = db.query("SELECT subscription_id, block_number FROM subscriptions WHERE chain_id = ?").all(chainId) as {
    subscription_id: number;
    block_number: number;
  }[];
  return new Map(rows.map((r) => [r.subscription_id, BigInt(r.block_number)]));
}

/** A recorded subscription with the VM that serves it (the newest, if several), for `subscriptions list`. */
export interface SubscriptionListRow {
  chain_id: number;
  subscription_id: number;
  subscriber: string;
  plan_id: number;
  expires_at: number;
  cancelled: number;
  vm_name: string | null;
  vm_status: string | null;
}

/** Every recorded subscription (optionally one subscriber's), oldest first. */
export function listSubscriptions(db: Database, subscriber?: string): SubscriptionListRow[] {
  return db
    .query(`SELECT s.chain_id, s.subscription_id, s.subscriber, s.plan_id, s.expires_at, s.cancelled,
        (SELECT v.vm_name FROM vms v WHERE v.subscription_id = s.subscription_id
          ORDER BY v.status = 'destroyed', v.vmid DESC LIMIT 1) AS vm_name,
        (SELECT v.status FROM vms v WHERE v.subscription_id = s.subscription_id
          ORDER BY v.status = 'destroyed', v.vmid DESC LIMIT 1) AS vm_status
      FROM subscriptions s WHERE ?1 IS NULL OR s.subscriber = ?1 COLLATE NOCASE
      ORDER BY s.chain_id, s.subscription_id`)
    .all(subscriber ?? null) as SubscriptionListRow[];
}
