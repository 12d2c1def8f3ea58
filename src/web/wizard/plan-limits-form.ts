/** The wizard plan step's limit fields (plan-limits-fields.tsx) as setup-file plan keys. */

/** The form's limit fields as planSchema keys (an overage choice only counts with a quota). */
export function planLimitForm(f: Record<string, string>, numeric: (k: string) => unknown): Record<string, unknown> {
  const quota = numeric("plan_traffic_gb_month");
  const overage = f.plan_overage === "suspend-network" ? "suspend-network" : "throttle";
  return {
    traffic_gb_month: quota,
    rate_mbit: numeric("plan_rate_mbit"),
    overage: quota === undefined ? undefined : overage,
    throttled_mbit: overage === "throttle" ? numeric("plan_throttled_mbit") : undefined,
    iops: numeric("plan_iops"),
    mbps: numeric("plan_mbps"),
  };
}
