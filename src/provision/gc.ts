/** Plan and run garbage collection of expired VMs. */
import { oneLine } from "../core/errors.ts";
import { DAY_MS } from "../core/clock.ts";
import type { Provisioner } from "./context.ts";
import { destroyVm, suspendVm } from "./lifecycle.ts";
import { listVms } from "../core/state/vms.ts";

export interface GcAction {
  vm_name: string;
  action: "suspend" | "destroy";
  reason: string;
}

export interface GcReport {
  actions: GcAction[];
  errors: Array<GcAction & { error: string }>;
}

/**
 * Phase 1: active VMs past their expiry are suspended. Phase 2: VMs suspended longer than the
 * grace period (counted from suspension) are destroyed. Pure: reads the database only.
 */
export function planGc(p: Provisioner, at: Date, graceDays: number): GcAction[] {
  const t = at.getTime();
  const out: GcAction[] = [];
  for (const vm of listVms(p.db, "active")) {
    if (Date.parse(vm.expires_at) < t)
      out.push({ vm_name: vm.vm_name, action: "suspend", reason: `expired ${vm.expires_at}` });
  }
  for (const vm of listVms(p.db, "suspended")) {
    const since = Date.parse(vm.suspended_at ?? vm.expires_at);
    if (since + graceDays * DAY_MS < t)
      out.push({
        vm_name: vm.vm_name,
        action: "destroy",
        reason: `suspended since ${vm.suspended_at ?? vm.expires_at}, grace ${graceDays} d passed`,
      });
  }
  return out;
}

/** Carry out a plan; one VM's failure does not stop the others. */
export async function executeGc(p: Provisioner, actions: GcAction[]): Promise<GcReport> {
  const report: GcReport = { actions: [], errors: [] };
  for (const a of actions) {
    try {
      if (a.action === "suspend") await suspendVm(p, a.vm_name);
      else await destroyVm(p, a.vm_name);
      report.actions.push(a);
    } catch (e) {
      report.errors.push({ ...a, error: oneLine(e) });
    }
  }
  return report;
}
