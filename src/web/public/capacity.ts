/** How many more VMs the host can create: VMIDs and addresses left in the pools of db.yaml. */
import type { Database } from "bun:sqlite";
import type { DbConfig } from "../../core/config/schemas.ts";
import { countAllocatedHosts, storedNextVmid } from "../../core/state/allocations.ts";
import { maxVmid } from "../../core/state/vms.ts";
import { ipv4Pool, ipv6Pool } from "../../core/config/network.ts";

export interface Capacity {
  vmids_left: number;
  ipv4_left: number;
  ipv6_left: number | null;
}

export function freeCapacity(db: Database, cfg: DbConfig): Capacity {
  // VMIDs are never reused: the next one is past both the counter and the highest ever used.
  const next = Math.max(cfg.vmid_range.start, storedNextVmid(db) ?? 0, maxVmid(db) + 1);
  const v4 = ipv4Pool(cfg);
  const reservedInPool = [...v4.reserved].filter((h) => h >= v4.first && h <= v4.last).length;
  const v4Left = v4.last - v4.first + 1 - reservedInPool - countAllocatedHosts(db, 4, v4.first, v4.last);
  const v6 = ipv6Pool(cfg);
  let v6Left: number | null = null;
  if (v6) {
    const first = Number(v6.first - v6.network);
    const last = Number(v6.last - v6.network);
    v6Left = last - first + 1 - countAllocatedHosts(db, 6, first, last);
  }
  return {
    vmids_left: Math.max(0, cfg.vmid_range.end - next + 1),
    ipv4_left: Math.max(0, v4Left),
    ipv6_left: v6Left === null ? null : Math.max(0, v6Left),
  };
}
