/** The wizard's plan step, traffic and disk part: empty fields sell no limit (blockhost.yaml plans.<id>). */
import { Choice, Field } from "../form.tsx";
import type { Draft } from "./draft.ts";

export function PlanLimitFields({ d }: { d: Draft }) {
  const p = d.plan;
  return (
    <>
      <h4>Traffic and disk (empty: unlimited)</h4>
      <Field
        name="plan_traffic_gb_month"
        label="Traffic per month (GB, in + out)"
        value={p?.traffic_gb_month}
        hint="Counted from each subscription's own start day; resets monthly on that day."
      />
      <Field name="plan_rate_mbit" label="Network speed cap (Mbit/s)" value={p?.rate_mbit} />
      <p>Over the monthly traffic</p>
      <Choice
        name="plan_overage"
        value="throttle"
        label="Throttle until the reset (or until more days are bought)"
        checked={p?.overage !== "suspend-network"}
      />
      <Choice
        name="plan_overage"
        value="suspend-network"
        label="Cut the network off until then"
        checked={p?.overage === "suspend-network"}
      />
      <Field name="plan_throttled_mbit" label="Throttled speed (Mbit/s, default 8)" value={p?.throttled_mbit} />
      <Field name="plan_iops" label="Disk operations per second" value={p?.iops} />
      <Field name="plan_mbps" label="Disk throughput (MiB/s)" value={p?.mbps} />
    </>
  );
}
