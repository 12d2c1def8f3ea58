/**
 * The cluster side of the Proxmox backend: the members and their load (`/cluster/resources`
 * through the agent's pvesh), where each VM lives now, free VMIDs, and placement of new VMs.
 */
import type { ProxmoxClusterSettings } from "../../core/config/schemas.ts";
import { BlockhostError } from "../../core/errors.ts";
import { storageOfVolume } from "../../core/pve-disks.ts";
import {
  candidates,
  placeVm,
  type Candidate,
  type ClusterView,
  type PlacementRequest,
  type TemplateHome,
} from "./proxmox-placement.ts";
import type { AgentCaller } from "./types.ts";
import { paths } from "../../core/paths.ts";
import { type Ipv4Pool, ipv4PoolFrom } from "../../core/config/network.ts";

/** What placement weighs: the plan's size, and for a reinstall the address the VM keeps. */
export interface PlacementPlan {
  memoryMb: number;
  diskGb: number;
  keepAddress?: PlacementRequest["keepAddress"];
}

export interface ClusterSettings {
  /** This node's name (blockhost.yaml proxmox.node): where the agent, the routes and the taps are. */
  localNode: string;
  settings: ProxmoxClusterSettings;
  defaults: { storage: string; bridge: string; templateVmid: number };
  /** db.yaml vmid_range: BlockHost's VMs, which the caps count. */
  vmidRange?: { start: number; end: number };
  /** blockhost.yaml proxmox.snippet_storage (default local). */
  snippetStorage?: string;
}

/** A node as `blockhost status`/`doctor` show it. */
export interface NodeReport {
  node: string;
  online: boolean;
  memUsedBytes: number;
  memTotalBytes: number;
  cpuLoad: number;
  maxcpu: number;
  /** BlockHost VMs running or stopped there. */
  vms: number;
  /** Why a new VM would not go there now (drained, full, …); absent when it could. */
  refusal?: string;
}

export class ProxmoxCluster {
  /** Creates placed but not finished: the engine runs several at once, and the cluster's figures lag them. */
  private readonly pending = new Map<string, { vms: number; memoryMb: number; diskGb: number }>();

  constructor(
    private readonly cfg: ClusterSettings,
    private readonly agent: AgentCaller,
  ) {}

  get localNode(): string {
    return this.cfg.localNode;
  }

  get strategy(): string {
    return this.cfg.settings.strategy;
  }

  private isOurs = (vmid: number) =>
    !this.cfg.vmidRange || (vmid >= this.cfg.vmidRange.start && vmid <= this.cfg.vmidRange.end);

  view(): Promise<ClusterView> {
    return this.agent.call("pve-cluster-resources", {});
  }

  /** The node whose config directory holds `vmid` now (after any HA recovery or migration), or null. */
  async nodeOf(vmid: number, view?: ClusterView): Promise<string | null> {
    return ((view ?? (await this.view())).vms.find((v) => v.vmid === vmid)?.node as string | undefined) ?? null;
  }

  /** vmid → node for every QEMU guest of the cluster. */
  async locateAll(): Promise<Map<number, string>> {
    return new Map((await this.view()).vms.map((v) => [v.vmid, v.node]));
  }

  async vmidFree(vmid: number): Promise<boolean> {
    return (await this.agent.call("pve-vmid-free", { vmid })).free === true;
  }

  /** Where each template lives: its node (from the cluster) and its disk's storage (its scsi0). */
  private async templateHomes(view: ClusterView): Promise<Map<number, TemplateHome>> {
    const ids = new Set([
      this.cfg.defaults.templateVmid,
      ...Object.values(this.cfg.settings.nodes).flatMap((n) => (n.template_vmid ? [n.template_vmid] : [])),
    ]);
    const homes = new Map<number, TemplateHome>();
    for (const id of ids) {
      const node = view.vms.find((v) => v.vmid === id && v.template)?.node;
      if (!node) continue;
      const { config } = await this.agent.call("qm-config", { vmid: id, node });
      if (config.scsi0) homes.set(id, { node, storage: storageOfVolume(config.scsi0) });
    }
    return homes;
  }

  /** The node's own IPv4 pool (proxmox.cluster.nodes.<node>.ip_pool), or undefined: it shares db.yaml's. */
  ipv4PoolOf(node: string): Ipv4Pool | undefined {
    const own = this.cfg.settings.nodes[node]?.ip_pool;
    return own && ipv4PoolFrom(own, `${paths.blockhostConfig}: proxmox.cluster.nodes.${node}.ip_pool`);
  }

  private async request(plan: PlacementPlan, view: ClusterView) {
    return {
      cluster: view,
      settings: this.cfg.settings,
      defaults: this.cfg.defaults,
      templates: await this.templateHomes(view),
      plan,
      isOurs: this.isOurs,
      localNode: this.cfg.localNode,
      snippetStorage: this.cfg.snippetStorage ?? "local",
      pending: this.pending,
      ...(plan.keepAddress ? { keepAddress: plan.keepAddress } : {}),
    };
  }

  /** The node a VM of this size goes to, or E_STATE naming why each node cannot take it. */
  async place(plan: PlacementPlan): Promise<Candidate> {
    const view = await this.view();
    if (view.nodes.length === 0)
      throw new BlockhostError("E_STATE", "the Proxmox cluster API lists no nodes (is this node in a cluster?)");
    return placeVm(await this.request(plan, view));
  }

  /** Count a create on `node` until `done` is called (after it runs, or fails and is rolled back). */
  reserve(node: string, plan: { memoryMb: number; diskGb: number }): () => void {
    const add = (sign: 1 | -1) => {
      const p = this.pending.get(node) ?? { vms: 0, memoryMb: 0, diskGb: 0 };
      const next = {
        vms: p.vms + sign,
        memoryMb: p.memoryMb + sign * plan.memoryMb,
        diskGb: p.diskGb + sign * plan.diskGb,
      };
      if (next.vms <= 0) this.pending.delete(node);
      else this.pending.set(node, next);
    };
    add(1);
    let released = false;
    return () => {
      if (!released) add(-1);
      released = true;
    };
  }

  /** Every node with its load, BlockHost VM count and (for a plan) why it would refuse a new VM. */
  async report(plan = { memoryMb: 0, diskGb: 0 }): Promise<NodeReport[]> {
    const view = await this.view();
    const byNode = new Map(candidates(await this.request(plan, view)).map((c) => [c.node, c]));
    return view.nodes.map((n) => ({
      node: n.node,
      online: n.online,
      memUsedBytes: n.mem,
      memTotalBytes: n.maxmem,
      cpuLoad: n.cpu,
      maxcpu: n.maxcpu,
      vms: byNode.get(n.node)?.ourVms ?? 0,
      ...(byNode.get(n.node)?.refusal ? { refusal: byNode.get(n.node)!.refusal } : {}),
    }));
  }
}
