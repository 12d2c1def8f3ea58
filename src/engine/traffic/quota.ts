/**
 * The quota decision for one VM, pure: given its last row, its plan's limits, its traffic totals and
 * the time, the row it should have now. Periods roll on the anchor's monthly anniversary; an
 * extension (a later expiry) while the VM is over its quota starts a new period at once, anchored
 * on that moment (the customer paid: the service comes back whole, like a renewal in Virtualizor's
 * billing modules); an extension within the quota changes nothing.
 */
import type { PlanLimits } from "../../core/config/plan-limits.ts";
import type { TrafficRow, TrafficState } from "../../core/state/traffic.ts";
import { trafficPeriod } from "../../core/traffic-period.ts";
import type { NicLimit } from "../../provision/backends/types.ts";

export interface QuotaInput {
  vm: { vm_name: string; created_at: string; expires_at: string };
  limits: PlanLimits & { quotaBytes: number };
  /** The VM's rx + tx total now. */
  totalBytes: number;
  /** Its rx + tx total at a past moment (a period's start). */
  bytesAt: (t: number) => number;
  now: number;
}

/** The row the VM should have now (`state` is the one to apply; `applied_at` is the previous one's). */
export function nextTrafficRow(prev: TrafficRow | null, i: QuotaInput): TrafficRow {
  let anchor = prev?.anchor_at ?? Date.parse(i.vm.created_at);
  let start = prev?.period_start ?? trafficPeriod(anchor, i.now).start;
  let baseline = prev?.baseline_bytes ?? i.bytesAt(start);
  const extended = prev !== null && Date.parse(i.vm.expires_at) > Date.parse(prev.expires_seen);
  if (extended && prev.state !== "normal") {
    anchor = i.now;
    start = i.now;
    baseline = i.totalBytes;
  } else {
    const period = trafficPeriod(anchor, i.now);
    // Only forward: a clock stepped back (NTP, BLOCKHOST_NOW unset) does not reopen an old period.
    if (period.start > start) {
      start = period.start;
      baseline = i.bytesAt(start);
    }
  }
  const over = i.totalBytes - baseline >= i.limits.quotaBytes;
  const state: TrafficState = !over ? "normal" : i.limits.overage === "throttle" ? "throttled" : "suspended";
  return {
    vm_name: i.vm.vm_name,
    anchor_at: anchor,
    period_start: start,
    baseline_bytes: baseline,
    expires_seen:
      prev && Date.parse(prev.expires_seen) > Date.parse(i.vm.expires_at) ? prev.expires_seen : i.vm.expires_at,
    state,
    applied_at: prev?.applied_at ?? 0,
  };
}

/** What the NIC gets in a state: the plan's rate, the throttle, or the plan's rate with the link down. */
export function nicLimitFor(state: TrafficState, limits: PlanLimits): NicLimit {
  if (state === "throttled") return { rateMbit: limits.throttledMbit, linkDown: false };
  return { rateMbit: limits.rateMbit, linkDown: state === "suspended" };
}
