/**
 * Traffic quota enforcement, a duty of the engine: each pass reads every active VM's traffic in its
 * period (the usage module's totals) and applies its plan's overage action, or lifts it, through the
 * backend. The row is written only after the hypervisor took the change, so an engine restart (or a
 * crash between the two) re-applies instead of losing a throttle, and never counts anything twice:
 * usage is always total-now minus the period's recorded baseline.
 */
import type { Database } from "bun:sqlite";
import { oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { deleteTrafficRow, getTrafficRow, listTrafficRows, saveTrafficRow } from "../../core/state/traffic.ts";
import { listVms, type VmRecord } from "../../core/state/vms.ts";
import type { Backend } from "../../provision/backends/types.ts";
import { ref } from "../../provision/lifecycle.ts";
import { limitsOfPlan, planIdOf, type Plans } from "../../provision/plan-of.ts";
import { totalTrafficBytes, trafficBytesAt } from "../../provision/traffic-status.ts";
import { nextTrafficRow, nicLimitFor } from "./quota.ts";

/** A cap or cut is applied again this often (a host reboot, a reinstall or a hand edit may have dropped it). */
export const REASSERT_MS = 10 * 60_000;

export interface TrafficDutyOptions {
  db: Database;
  backend: Pick<Backend, "setNicLimit">;
  plans: Plans;
  intervalMs: number;
  /** The time decisions use (unix ms); the engine's is core/clock's `now` (BLOCKHOST_NOW in tests). */
  clock: () => number;
}

/** What one pass did, by VM (for tests and the log). */
export interface TrafficPassResult {
  applied: Array<{ vm: string; state: string; usedBytes: number }>;
  failed: Array<{ vm: string; error: string }>;
}

export class TrafficDuty {
  private lastPass = 0;

  constructor(private readonly o: TrafficDutyOptions) {}

  /** Null when no plan sells a quota and no VM carries an old throttle: nothing to do. */
  static create(o: TrafficDutyOptions): TrafficDuty | null {
    const any = Object.values(o.plans).some((p) => p.traffic_gb_month !== undefined);
    return any || listTrafficRows(o.db).length ? new TrafficDuty(o) : null;
  }

  async poll(stopping: () => boolean): Promise<void> {
    if (Date.now() - this.lastPass < this.o.intervalMs) return;
    this.lastPass = Date.now();
    await this.pass(stopping);
  }

  nextDue(): number {
    return this.lastPass + this.o.intervalMs;
  }

  async pass(stopping: () => boolean = () => false): Promise<TrafficPassResult> {
    const { db } = this.o;
    const result: TrafficPassResult = { applied: [], failed: [] };
    const active = listVms(db, "active");
    for (const vm of active) {
      if (stopping()) break;
      await this.one(vm, result);
    }
    // Rows of VMs no longer active: a destroyed VM's is dropped (a suspended one keeps its period).
    const names = new Set(active.map((v) => v.vm_name));
    const kept = new Set(listVms(db, "suspended").map((v) => v.vm_name));
    for (const row of listTrafficRows(db))
      if (!names.has(row.vm_name) && !kept.has(row.vm_name)) deleteTrafficRow(db, row.vm_name);
    return result;
  }

  private async one(vm: VmRecord, result: TrafficPassResult): Promise<void> {
    const { db } = this.o;
    const now = this.o.clock();
    const limits = limitsOfPlan(this.o.plans, planIdOf(vm));
    const prev = getTrafficRow(db, vm.vm_name);
    if (!limits || limits.quotaBytes === null) {
      // The plan lost its quota: lift what was applied, then forget the row.
      if (prev && prev.state !== "normal") {
        const ok = await this.apply(vm, "normal", { rateMbit: limits?.rateMbit ?? null, linkDown: false }, 0, result);
        if (!ok) return;
      }
      if (prev) deleteTrafficRow(db, vm.vm_name);
      return;
    }
    const total = totalTrafficBytes(db, vm.vm_name);
    const next = nextTrafficRow(prev, {
      vm,
      limits: { ...limits, quotaBytes: limits.quotaBytes },
      totalBytes: total,
      bytesAt: (t) => trafficBytesAt(db, vm.vm_name, t),
      now,
    });
    const previous = prev?.state ?? "normal";
    // A VM seen for the first time has the plan's cap from its create: that counts as applied now.
    if (!prev && next.state === "normal") next.applied_at = now;
    // A cap lives in the host's nftables (libvirt) or the VM config (Proxmox): a host reboot or a
    // reinstall can drop it, so any cap is set again now and then, not only on a change.
    const capped = next.state !== "normal" || limits.rateMbit !== null;
    const due = next.state !== previous || (capped && now - next.applied_at >= REASSERT_MS);
    if (due) {
      const used = total - next.baseline_bytes;
      if (!(await this.apply(vm, next.state, nicLimitFor(next.state, limits), used, result))) {
        // Not applied: keep the period's bookkeeping, not the state (the next pass tries again).
        saveTrafficRow(db, { ...next, state: previous });
        return;
      }
      next.applied_at = now;
      if (next.state !== previous)
        logEvent(`traffic.${next.state === "normal" ? "restored" : next.state}`, {
          vm: vm.vm_name,
          used_bytes: used,
          quota_bytes: limits.quotaBytes,
          period_start: new Date(next.period_start).toISOString(),
        });
    }
    saveTrafficRow(db, next);
  }

  private async apply(
    vm: VmRecord,
    state: string,
    limit: Parameters<NonNullable<Backend["setNicLimit"]>>[1],
    used: number,
    result: TrafficPassResult,
  ): Promise<boolean> {
    try {
      await this.o.backend.setNicLimit?.(ref(vm), limit, (line) => logEvent("traffic", { message: line }));
      result.applied.push({ vm: vm.vm_name, state, usedBytes: used });
      return true;
    } catch (e) {
      logEvent("traffic.apply_failed", { vm: vm.vm_name, state, error: oneLine(e) });
      result.failed.push({ vm: vm.vm_name, error: oneLine(e) });
      return false;
    }
  }
}
