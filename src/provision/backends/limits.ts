/** A plan's limits in each hypervisor's units, and the Proxmox property strings that carry them. */
import type { NicLimit, VmLimits } from "./types.ts";

/** Mbit/s (10^6 bits) as bytes per second, for the libvirt port's nftables cap. */
export const bytesPerS = (mbit: number) => Math.max(1, Math.round(mbit * 125_000));

/**
 * Proxmox's net `rate=` is "megabytes per second" that PVE::Network::tap_rate_limit multiplies by
 * 1024 × 1024: Mbit/s (10^6 bits) → MiB/s, three decimals (never rounded to 0, which means unlimited).
 */
export const pveRate = (mbit: number) =>
  String(Math.max(0.001, Math.round(((mbit * 1e6) / 8 / 1_048_576) * 1000) / 1000));

/** Replace (or drop, with undefined) `key=` items of a Proxmox property string, keeping every other item. */
export function withItems(value: string, items: Record<string, string | undefined>): string {
  const kept = value.split(",").filter((item) => item !== "" && !Object.hasOwn(items, item.split("=")[0]!));
  const added = Object.entries(items).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  return [...kept, ...added].join(",");
}

/** net0 with the NIC limit: `rate=` (MiB/s) or none, `link_down=1` or none. */
export const pveNet = (net0: string, limit: NicLimit) =>
  withItems(net0, {
    rate: limit.rateMbit === null ? undefined : pveRate(limit.rateMbit),
    link_down: limit.linkDown ? "1" : undefined,
  });

/** A disk's property string with the plan's `iops=` and `mbps=` (MiB/s). */
export const pveDisk = (disk: string, limits: VmLimits) =>
  withItems(disk, {
    iops: limits.iops === null ? undefined : String(limits.iops),
    mbps: limits.diskMbps === null ? undefined : String(limits.diskMbps),
  });
