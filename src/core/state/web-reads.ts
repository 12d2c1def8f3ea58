/** Read-only queries the public web front (status API, admin panel) runs against the engine's tables. */
import type { Database } from "bun:sqlite";

export interface SubscriptionSeen {
  subscription_id: number;
  subscriber: string;
  plan_id: number;
  expires_at: number;
  cancelled: boolean;
}

/** A subscription as the engine recorded it from its SubscriptionCreated log, or null when not seen yet. */
export function subscriptionSeen(db: Database, chainId: number, id: number): SubscriptionSeen | null {
  const r = db.query("SELECT subscription_id, subscriber, plan_id, expires_at, cancelled FROM subscriptions WHERE chain_id = ? AND subscription_id = ?")
    .get(chainId, id) as (Omit<SubscriptionSeen, "cancelled"> & { cancelled: number }) | null;
  return r ? { ...r, cancelled: r.cancelled === 1 } : null;
}

export interface JobSummary { key: string; kind: string; state: string; attempts: number; last_error: string | null; updated_at: string; next_run_at: number }

/** One job by its key (the engine's idempotency key), without its payload. */
export function jobByKey(db: Database, key: string): JobSummary | null {
  return db.query("SELECT key, kind, state, attempts, last_error, updated_at, next_run_at FROM jobs WHERE key = ?").get(key) as JobSummary | null;
}

/** Jobs the operator may want to look at: failed, dead or retrying now, newest first. */
export function troubledJobs(db: Database, limit = 100): JobSummary[] {
  return db.query(`SELECT key, kind, state, attempts, last_error, updated_at, next_run_at FROM jobs
    WHERE state IN ('failed', 'dead') OR (state = 'running' AND last_error IS NOT NULL) ORDER BY updated_at DESC LIMIT ?`).all(limit) as JobSummary[];
}

/** The VMID the next VM would get, from the counter and the highest VMID ever used (VMIDs are never reused). */
export function nextVmidFloor(db: Database): number {
  const counter = (db.query("SELECT value FROM counters WHERE name = 'next_vmid'").get() as { value: number } | null)?.value ?? 0;
  const maxUsed = (db.query("SELECT MAX(vmid) AS m FROM vms").get() as { m: number | null }).m ?? 0;
  return Math.max(counter, maxUsed + 1);
}

/** How many host numbers in [first, last] are allocated to VMs. */
export function allocatedHosts(db: Database, family: 4 | 6, first: number, last: number): number {
  return (db.query("SELECT COUNT(*) AS n FROM ip_allocations WHERE family = ? AND host BETWEEN ? AND ?").get(family, first, last) as { n: number }).n;
}
