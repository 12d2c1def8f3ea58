/** The Proxmox cluster's nodes in `blockhost status` and `doctor`: load, BlockHost VMs on each, why one takes no VM. */
import type { Database } from "bun:sqlite";
import type { BlockhostConfig, DbConfig } from "../core/config/schemas.ts";
import { oneLine } from "../core/errors.ts";
import { countByNode, listVms } from "../core/state/vms.ts";
import { type Backend, selectBackend } from "../provision/backends/index.ts";
import type { AgentCaller } from "../provision/backends/types.ts";
import { ProxmoxBackend } from "../provision/backends/proxmox.ts";

export interface NodeStatus {
  node: string;
  online: boolean;
  mem_used_mb: number;
  mem_total_mb: number;
  /** CPU load, 0..1, and the CPU count. */
  cpu: number;
  maxcpu: number;
  /** Live BlockHost VMs recorded on this node (the reconciler keeps it current). */
  vms: number;
  /** Why a new VM of the default plan would not go there now (drained, a cap, full); null when it could. */
  refusal: string | null;
}

export interface ClusterStatus {
  strategy: string;
  nodes: NodeStatus[];
  /** Live VMs the cluster has on no node (flagged by the reconciler, never destroyed). */
  unplaced: string[];
  /** VMs moved to a node whose own IPv4 pool does not hold their address (flagged by the reconciler). */
  foreign: string[];
  error: string | null;
}

const MiB = 1024 ** 2;

/** null on a single host (no proxmox.cluster); otherwise the nodes as the cluster API reports them now. */
export async function clusterStatus(
  db: Database,
  cfg: BlockhostConfig,
  dbCfg: DbConfig | null,
  agent?: AgentCaller,
): Promise<ClusterStatus | null> {
  const settings = cfg.backend === "proxmox" ? cfg.proxmox?.cluster : undefined;
  if (!settings) return null;
  try {
    return await clusterStatusOf(db, selectBackend(cfg, agent, undefined, dbCfg?.vmid_range));
  } catch (e) {
    return {
      strategy: settings.strategy,
      nodes: [],
      unplaced: unplacedVms(db),
      foreign: foreignVms(db),
      error: oneLine(e),
    };
  }
}

const unplacedVms = (db: Database) =>
  listVms(db)
    .filter((v) => (v.status === "active" || v.status === "suspended") && v.extra.unplaced_since)
    .map((v) => v.vm_name);

const foreignVms = (db: Database) =>
  listVms(db)
    .filter((v) => (v.status === "active" || v.status === "suspended") && v.extra.address_foreign)
    .map((v) => `${v.vm_name} (on ${String(v.extra.address_foreign)})`);

/** The same for a backend already built (the admin panel's provisioner); null when it is not on a cluster. */
export async function clusterStatusOf(db: Database, backend: Backend): Promise<ClusterStatus | null> {
  if (!(backend instanceof ProxmoxBackend) || !backend.cluster) return null;
  const { strategy } = backend.cluster;
  const unplaced = unplacedVms(db);
  const foreign = foreignVms(db);
  try {
    const recorded = countByNode(db);
    const nodes = (await backend.cluster.report({ memoryMb: 2048, diskGb: 20 })).map((n) => ({
      node: n.node,
      online: n.online,
      mem_used_mb: Math.round(n.memUsedBytes / MiB),
      mem_total_mb: Math.round(n.memTotalBytes / MiB),
      cpu: n.cpuLoad,
      maxcpu: n.maxcpu,
      vms: recorded.get(n.node) ?? 0,
      refusal: n.refusal ?? null,
    }));
    return { strategy, nodes, unplaced, foreign, error: null };
  } catch (e) {
    return { strategy, nodes: [], unplaced, foreign, error: oneLine(e) };
  }
}

/** Text lines: one per node, then the VMs on no node. */
export function clusterLines(c: ClusterStatus | null): string[] {
  if (!c) return [];
  if (c.error) return [`cluster:  ${c.strategy}; nodes unknown: ${c.error}`];
  return [
    `cluster:  ${c.nodes.length} node(s), placement ${c.strategy}`,
    ...c.nodes.map(
      (n) =>
        `  node ${n.node}: ${n.online ? "online" : "offline"}, memory ${n.mem_used_mb}/${n.mem_total_mb} MiB, cpu ${(n.cpu * 100).toFixed(0)}% of ${n.maxcpu}, ${n.vms} BlockHost VM(s)${n.refusal ? `; takes no new VM: ${n.refusal}` : ""}`,
    ),
    ...(c.unplaced.length ? [`  on no node (flagged, not destroyed): ${c.unplaced.join(", ")}`] : []),
    ...(c.foreign.length ? [`  address not in their node's IPv4 pool (migrate back): ${c.foreign.join(", ")}`] : []),
  ];
}
