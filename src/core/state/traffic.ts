/**
 * Owner of `traffic_quota`: per VM, the current quota period and what enforcement last applied.
 * `baseline_bytes` is the VM's monotonic rx + tx total (core/state/usage.ts) when the period began,
 * so the period's usage is the total now minus it; `state` is the NIC state last applied through
 * the hypervisor (written after the hypervisor accepted it, so a crash in between re-applies).
 */
import type { Database } from "bun:sqlite";

export type TrafficState = "normal" | "throttled" | "suspended";

export interface TrafficRow {
  vm_name: string;
  /** The day periods reset on (unix ms): the VM's creation, or the moment an extension lifted an overage. */
  anchor_at: number;
  period_start: number;
  baseline_bytes: number;
  /** The VM's expiry as last seen (ISO): a later one is an extension. */
  expires_seen: string;
  state: TrafficState;
  /** When `state` was last applied through the hypervisor (unix ms). */
  applied_at: number;
}

export function getTrafficRow(db: Database, vmName: string): TrafficRow | null {
  return db.query("SELECT * FROM traffic_quota WHERE vm_name = ?").get(vmName) as TrafficRow | null;
}

export function saveTrafficRow(db: Database, r: TrafficRow): void {
  db.query(
    `INSERT OR REPLACE INTO traffic_quota (vm_name, anchor_at, period_start, baseline_bytes, expires_seen, state,
      applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.vm_name, r.anchor_at, r.period_start, r.baseline_bytes, r.expires_seen, r.state, r.applied_at);
}

/** Every VM's row (the admin panel's list). */
export function listTrafficRows(db: Database): TrafficRow[] {
  return db.query("SELECT * FROM traffic_quota ORDER BY vm_name").all() as TrafficRow[];
}

/** Forget a VM's quota (destroyed, or its plan no longer has one). */
export function deleteTrafficRow(db: Database, vmName: string): void {
  db.query("DELETE FROM traffic_quota WHERE vm_name = ?").run(vmName);
}
