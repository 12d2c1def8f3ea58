/** A VM's traffic quota in words and as JSON, for `blockhost vm usage` and the panels. */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { loadBlockhostConfig } from "../core/config/index.ts";
import { paths } from "../core/paths.ts";
import type { VmRecord } from "../core/state/vms.ts";
import { limitsOfPlan, planIdOf, type Plans } from "./plan-of.ts";
import { type TrafficStatus, trafficStatus } from "./traffic-status.ts";

/** Traffic is sold in GB of 10^9 bytes (as plans.<id>.traffic_gb_month). */
export const formatGb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 1e10 ? 2 : 1)} GB`;
const day = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** blockhost.yaml `plans:` for read-only commands (none when the host has no blockhost.yaml yet). */
export const hostPlans = (): Plans => (existsSync(paths.blockhostConfig) ? (loadBlockhostConfig().plans ?? {}) : {});

export function vmTraffic(db: Database, vm: VmRecord, plans: Plans, nowMs: number): TrafficStatus {
  return trafficStatus(db, vm, limitsOfPlan(plans, planIdOf(vm)), nowMs);
}

/** One line: used (of the quota), what is left, the reset and the NIC's state. */
export function trafficLine(t: TrafficStatus): string {
  const used =
    t.quotaBytes === null
      ? `${formatGb(t.usedBytes)} this period (no quota)`
      : `${formatGb(t.usedBytes)} of ${formatGb(t.quotaBytes)}, ${formatGb(t.remainingBytes ?? 0)} left`;
  const state =
    t.state === "throttled"
      ? `; over quota: throttled to ${t.throttledMbit} Mbit/s`
      : t.state === "suspended"
        ? "; over quota: network suspended"
        : t.rateMbit !== null
          ? `; ${t.rateMbit} Mbit/s`
          : "";
  return `${used}; resets ${day(t.resetAt)}${state}`;
}

/** The JSON shape (snake_case like the rest of the CLI's JSON). */
export function trafficJson(t: TrafficStatus) {
  return {
    used_bytes: t.usedBytes,
    quota_bytes: t.quotaBytes,
    remaining_bytes: t.remainingBytes,
    period_start: new Date(t.periodStart).toISOString(),
    resets_at: new Date(t.resetAt).toISOString(),
    state: t.state,
    rate_mbit: t.rateMbit,
    overage: t.overage,
    throttled_mbit: t.throttledMbit,
  };
}
