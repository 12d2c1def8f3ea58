/** Allocate a VMID and addresses for a VM in one transaction. */
import type { Database } from "bun:sqlite";
import type { DbConfig } from "../core/config/schemas.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import {
  lowestFreeHost,
  markAllocated,
  reserveAddress,
  setNextVmid,
  storedNextVmid,
} from "../core/state/allocations.ts";
import { maxVmid } from "../core/state/vms.ts";
import { bigIntToIpv6 } from "../core/ipv6.ts";
import { type Ipv4Pool, ipv4Pool, ipv4Text, ipv6Pool } from "../core/config/network.ts";

/** What one VM gets: a VMID that is never handed out again and its addresses. */
export interface Allocation {
  vmid: number;
  ipv4: string;
  ipv4Host: number;
  ipv4Bits: number;
  gateway: string;
  ipv6: string | null;
  ipv6Bits: number | null;
  ipv6Host: number | null;
  ipv6Gateway: string | null;
}

function nextVmid(db: Database, cfg: DbConfig): number {
  const vmid = Math.max(storedNextVmid(db) ?? 0, cfg.vmid_range.start, maxVmid(db) + 1);
  if (vmid > cfg.vmid_range.end) {
    throw new BlockhostError(
      "E_STATE",
      `${paths.dbConfig}: vmid_range ${cfg.vmid_range.start}..${cfg.vmid_range.end} is used up (VMIDs are never reused); widen it`,
    );
  }
  return vmid;
}

function firstFreeIpv4(db: Database, pool: Ipv4Pool): { ip: string; host: number; bits: number; gateway: string } {
  const n = lowestFreeHost(db, 4, pool.first, pool.last, [...pool.reserved]);
  if (n === null)
    throw new BlockhostError(
      "E_STATE",
      `IPv4 pool ${ipv4Text(pool.first)}..${ipv4Text(pool.last)} has no free address`,
    );
  return { ip: ipv4Text(n), host: n, bits: pool.bits, gateway: pool.gateway };
}

function firstFreeIpv6(
  db: Database,
  cfg: DbConfig,
): { ip: string; host: number; bits: number; gateway: string } | null {
  const pool = ipv6Pool(cfg);
  if (!pool) return null;
  const n = lowestFreeHost(db, 6, Number(pool.first - pool.network), Number(pool.last - pool.network), []);
  if (n === null)
    throw new BlockhostError(
      "E_STATE",
      `IPv6 pool ${bigIntToIpv6(pool.first)}..${bigIntToIpv6(pool.last)} has no free address`,
    );
  return { ip: bigIntToIpv6(pool.network + BigInt(n)), host: n, bits: pool.bits, gateway: pool.gateway };
}

/** What `allocate` would hand out now, without writing anything (for plans). */
export function previewAllocation(db: Database, cfg: DbConfig, v4pool: Ipv4Pool = ipv4Pool(cfg)): Allocation {
  const v4 = firstFreeIpv4(db, v4pool);
  const v6 = firstFreeIpv6(db, cfg);
  return {
    vmid: nextVmid(db, cfg),
    ipv4: v4.ip,
    ipv4Host: v4.host,
    ipv6Host: v6?.host ?? null,
    ipv4Bits: v4.bits,
    gateway: v4.gateway,
    ipv6: v6?.ip ?? null,
    ipv6Bits: v6?.bits ?? null,
    ipv6Gateway: v6?.gateway ?? null,
  };
}

/**
 * Take a VMID and addresses for `vmName` and run `record` (which inserts the VM row) in ONE
 * SQLite transaction: two concurrent creators can never get the same VMID or address.
 */
/** `v4pool`: a cluster node's own IPv4 pool when the VM was placed on one; db.yaml's ip_pool otherwise. */
export function allocate(
  db: Database,
  cfg: DbConfig,
  vmName: string,
  record: (a: Allocation) => void,
  v4pool: Ipv4Pool = ipv4Pool(cfg),
): Allocation {
  return db
    .transaction(() => {
      const a = previewAllocation(db, cfg, v4pool);
      setNextVmid(db, a.vmid + 1);
      reserveAddress(db, 4, a.ipv4, a.ipv4Host, vmName);
      markAllocated(db, 4, v4pool.first, a.ipv4Host);
      if (a.ipv6) {
        reserveAddress(db, 6, a.ipv6, a.ipv6Host!, vmName);
        const v6 = ipv6Pool(cfg)!;
        markAllocated(db, 6, Number(v6.first - v6.network), a.ipv6Host!);
      }
      record(a);
      return a;
    })
    .immediate();
}

/** The VM's MAC, derived from its VMID (never reused): QEMU's 52:54:00 prefix and the VMID's low 24 bits. */
export function macForVmid(vmid: number): string {
  return ["52", "54", "00", (vmid >> 16) & 0xff, (vmid >> 8) & 0xff, vmid & 0xff]
    .map((b) => (typeof b === "string" ? b : b.toString(16).padStart(2, "0")))
    .join(":");
}
