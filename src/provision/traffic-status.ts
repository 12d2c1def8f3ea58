/**
 * A VM's traffic in its current quota period, for the CLI, the panels and the engine's enforcement:
 * usage comes from the usage module's monotonic totals (rx + tx), the period from the VM's anchor
 * (core/traffic-period.ts), the applied state from core/state/traffic.ts.
 */
import type { Database } from "bun:sqlite";
import type { PlanLimits } from "../core/config/plan-limits.ts";
import { getTrafficRow, type TrafficRow, type TrafficState } from "../core/state/traffic.ts";
import { currentUsage, usageAt } from "../core/state/usage.ts";
import type { VmRecord } from "../core/state/vms.ts";
import { trafficPeriod } from "../core/traffic-period.ts";

export interface TrafficStatus {
  vmName: string;
  /** Bytes the plan allows per period (null: no quota, only counted). */
  quotaBytes: number | null;
  usedBytes: number;
  remainingBytes: number | null;
  periodStart: number;
  /** The next reset (unix ms). */
  resetAt: number;
  /** What the NIC has now: normal (the plan's rate), throttled or suspended (link down). */
  state: TrafficState;
  rateMbit: number | null;
  overage: PlanLimits["overage"] | null;
  throttledMbit: number | null;
}

/** rx + tx of the VM's monotonic totals now (0 when never sampled). */
export function totalTrafficBytes(db: Database, vmName: string): number {
  const u = currentUsage(db, vmName);
  return u ? u.total.rxBytes + u.total.txBytes : 0;
}

/** rx + tx totals at `t` (the last reading at or before it). */
export function trafficBytesAt(db: Database, vmName: string, t: number): number {
  const c = usageAt(db, vmName, t);
  return c.rxBytes + c.txBytes;
}

/** The period a VM's quota counts in: from its row when there is one, else from its creation. */
export function anchorOf(vm: Pick<VmRecord, "created_at">, row: TrafficRow | null): number {
  return row?.anchor_at ?? Date.parse(vm.created_at);
}

/** The VM's traffic now; `limits` null: counted, no quota. */
export function trafficStatus(
  db: Database,
  vm: Pick<VmRecord, "vm_name" | "created_at">,
  limits: PlanLimits | null,
  nowMs: number,
): TrafficStatus {
  const row = getTrafficRow(db, vm.vm_name);
  const period = trafficPeriod(anchorOf(vm, row), nowMs);
  const baseline =
    row && row.period_start === period.start ? row.baseline_bytes : trafficBytesAt(db, vm.vm_name, period.start);
  const used = Math.max(0, totalTrafficBytes(db, vm.vm_name) - baseline);
  const quota = limits?.quotaBytes ?? null;
  return {
    vmName: vm.vm_name,
    quotaBytes: quota,
    usedBytes: used,
    remainingBytes: quota === null ? null : Math.max(0, quota - used),
    periodStart: period.start,
    resetAt: period.end,
    state: row?.state ?? "normal",
    rateMbit: limits?.rateMbit ?? null,
    overage: quota === null ? null : (limits?.overage ?? null),
    throttledMbit: quota !== null && limits?.overage === "throttle" ? limits.throttledMbit : null,
  };
}
