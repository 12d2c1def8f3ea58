/** The plan a VM was sold under (recorded at create) and the limits blockhost.yaml gives that plan now. */
import { planLimits, type PlanLimits } from "../core/config/plan-limits.ts";
import type { PlanSize } from "../core/config/schemas.ts";
import type { VmRecord } from "../core/state/vms.ts";
import type { VmLimits } from "./backends/types.ts";

export type Plans = Readonly<Record<string, PlanSize>>;

/** The on-chain plan id recorded in the VM's `extra.plan_id` at create; null for a VM made by hand. */
export function planIdOf(vm: Pick<VmRecord, "extra">): number | null {
  const id = vm.extra.plan_id;
  return typeof id === "number" && Number.isSafeInteger(id) ? id : null;
}

/** The plan's limits, or null when the VM has no plan or blockhost.yaml does not list it (nothing bounded). */
export function limitsOfPlan(plans: Plans | undefined, planId: number | null): PlanLimits | null {
  const plan = planId === null ? undefined : plans?.[String(planId)];
  return plan ? planLimits(plan) : null;
}

/** What a create or reinstall sets in the VM's definition. */
export function vmLimits(l: PlanLimits | null): VmLimits | undefined {
  return l ? { rateMbit: l.rateMbit, iops: l.iops, diskMbps: l.diskMbps } : undefined;
}
