/** The traffic and disk limits a plan sells (blockhost.yaml `plans.<id>`), and the rules between them. */
import { int, literal, num, type object, optional, schemaError, type Infer, type Schema } from "../schema.ts";

/** Convoy's overage penalty throttles to 1 MB/s: the default throttle when a plan names none. */
export const DEFAULT_THROTTLED_MBIT = 8;

/**
 * The keys a plan may add beside its size. Units: traffic in GB (10^9 bytes, rx + tx), rates in
 * Mbit/s (10^6 bits), disk `mbps` in MiB/s and `iops` in operations per second (Proxmox's units).
 */
export const planLimitKeys = {
  traffic_gb_month: optional(num(0.001, 1_000_000)),
  rate_mbit: optional(int(1, 100_000)),
  overage: optional(literal("throttle", "suspend-network")),
  throttled_mbit: optional(int(1, 100_000)),
  iops: optional(int(10, 1_000_000)),
  mbps: optional(int(1, 100_000)),
};

type Limits = Infer<ReturnType<typeof object<typeof planLimitKeys>>>;

/**
 * The rules between the keys, each refused at the key that breaks it (so the config error names
 * `plans.<id>.<key>`): an overage action needs a quota, a throttle rate belongs to `throttle` and
 * must be below the plan's own rate.
 */
export function checkPlanLimits<T extends Limits>(inner: Schema<T>): Schema<T> {
  return {
    describe: inner.describe,
    ...(inner.doc ? { doc: inner.doc } : {}),
    parse(v, path = "") {
      const p = inner.parse(v, path);
      const at = (k: string) => (path ? `${path}.${k}` : k);
      if (p.traffic_gb_month === undefined) {
        if (p.overage !== undefined) throw schemaError(at("overage"), "overage only together with traffic_gb_month");
        if (p.throttled_mbit !== undefined)
          throw schemaError(at("throttled_mbit"), "throttled_mbit only together with traffic_gb_month");
      }
      if (p.overage === "suspend-network" && p.throttled_mbit !== undefined)
        throw schemaError(at("throttled_mbit"), "throttled_mbit only with overage: throttle");
      if (p.throttled_mbit !== undefined && p.rate_mbit !== undefined && p.throttled_mbit >= p.rate_mbit)
        throw schemaError(at("throttled_mbit"), `a throttled rate below rate_mbit (${p.rate_mbit})`);
      return p;
    },
  };
}

/** What the enforcement needs of a plan: rates resolved, the overage action defaulted. */
export interface PlanLimits {
  /** Bytes per period (rx + tx), or null for no quota. */
  quotaBytes: number | null;
  rateMbit: number | null;
  overage: "throttle" | "suspend-network";
  throttledMbit: number;
  iops: number | null;
  diskMbps: number | null;
}

export function planLimits(p: Limits): PlanLimits {
  return {
    quotaBytes: p.traffic_gb_month === undefined ? null : Math.round(p.traffic_gb_month * 1e9),
    rateMbit: p.rate_mbit ?? null,
    overage: p.overage ?? "throttle",
    throttledMbit: p.throttled_mbit ?? Math.min(DEFAULT_THROTTLED_MBIT, p.rate_mbit ?? DEFAULT_THROTTLED_MBIT),
    iops: p.iops ?? null,
    diskMbps: p.mbps ?? null,
  };
}
