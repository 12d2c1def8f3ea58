/**
 * Agent actions: read-only views of a Proxmox VE cluster through `pvesh` on this node (nothing new
 * listens). Two fixed GETs, no path from the caller: `/cluster/resources` and `/cluster/nextid`
 * (pve-manager PVE/API2/Cluster.pm; the same fields in PVE 8 and PVE 9). The answer is reduced to
 * the fields placement needs, every value type-checked.
 */
import { BlockhostError } from "../../core/errors.ts";
import { object } from "../../core/schema.ts";
import { PVE_NODE_RE, STORAGE_RE, vmid } from "../../core/validators.ts";
import { pveshGet } from "../pve-api.ts";
import { unlessCommandSays } from "../run.ts";
import { defineAction } from "./types.ts";

export interface PveNodeLoad {
  node: string;
  online: boolean;
  /** CPUs, and their use as a fraction (0..1). */
  maxcpu: number;
  cpu: number;
  /** Bytes. */
  maxmem: number;
  mem: number;
}
export interface PveStorageUse {
  node: string;
  storage: string;
  /** pve-storage plugin type (lvmthin, lvm, zfspool, rbd, dir, …). */
  type: string;
  shared: boolean;
  /** Bytes. */
  maxdisk: number;
  disk: number;
}
export interface PveGuest {
  vmid: number;
  node: string;
  status: string;
  template: boolean;
  name: string;
  /** Bytes of memory configured. */
  maxmem: number;
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
const text = (v: unknown, re: RegExp) => (typeof v === "string" && re.test(v) ? v : null);

/** `/cluster/resources` reduced to nodes, storages and QEMU guests (LXC, pools, SDN are not ours). */
export function reduceResources(data: unknown): { nodes: PveNodeLoad[]; storages: PveStorageUse[]; vms: PveGuest[] } {
  if (!Array.isArray(data)) throw new BlockhostError("E_COMMAND_FAILED", "pvesh /cluster/resources: not a list");
  const nodes: PveNodeLoad[] = [];
  const storages: PveStorageUse[] = [];
  const vms: PveGuest[] = [];
  for (const r of data as Record<string, unknown>[]) {
    if (typeof r !== "object" || r === null) continue;
    const node = text(r.node, PVE_NODE_RE);
    if (!node) continue;
    if (r.type === "node")
      nodes.push({
        node,
        online: r.status === "online",
        maxcpu: num(r.maxcpu),
        cpu: Math.min(num(r.cpu), 1),
        maxmem: num(r.maxmem),
        mem: num(r.mem),
      });
    else if (r.type === "storage") {
      const storage = text(r.storage, STORAGE_RE);
      const type = text(r.plugintype, /^[a-z][a-z0-9]{0,31}$/);
      if (storage && type && r.status === "available")
        storages.push({
          node,
          storage,
          type,
          shared: r.shared === 1 || r.shared === true,
          maxdisk: num(r.maxdisk),
          disk: num(r.disk),
        });
    } else if (r.type === "qemu" && Number.isSafeInteger(r.vmid))
      vms.push({
        vmid: r.vmid as number,
        node,
        status: text(r.status, /^[a-z-]{1,32}$/) ?? "unknown",
        template: r.template === 1 || r.template === true,
        name: text(r.name, /^[A-Za-z0-9._-]{1,64}$/) ?? "",
        maxmem: num(r.maxmem),
      });
  }
  return { nodes, storages, vms };
}

/** The cluster's members with their load, storages with their use, and every QEMU guest's node. */
export const pveClusterResources = defineAction({
  name: "pve-cluster-resources",
  params: object({}),
  timeoutMs: 60_000,
  handler: async (_p, ctx) => reduceResources(await pveshGet(ctx, "/cluster/resources")),
});

/** Whether no guest anywhere in the cluster has this VMID (`/cluster/nextid --vmid N`). */
export const pveVmidFree = defineAction({
  name: "pve-vmid-free",
  params: object({ vmid }),
  timeoutMs: 30_000,
  handler: async (p, ctx) =>
    unlessCommandSays(/already exists/, { free: false }, async () => {
      const answer = await pveshGet(ctx, "/cluster/nextid", ["--vmid", String(p.vmid)]);
      return { free: answer === p.vmid || answer === String(p.vmid) };
    }),
});
