/**
 * Placement of a new VM on a Proxmox VE cluster: every online member is a candidate unless the
 * operator drained it, a cap in blockhost.yaml stops it, or the plan does not fit its free memory
 * or its VM storage; the best remaining one under the strategy gets the VM. Pure: it reads the
 * cluster's figures (`/cluster/resources`) and the templates' configs, changes nothing.
 */
import type { PveGuest, PveNodeLoad, PveStorageUse } from "../../agent/actions/pve-cluster.ts";
import type { ProxmoxClusterSettings } from "../../core/config/schemas.ts";
import { BlockhostError } from "../../core/errors.ts";
import { LINKED_CLONE_STORAGE_TYPES } from "../../core/pve-disks.ts";

export interface ClusterView {
  nodes: PveNodeLoad[];
  storages: PveStorageUse[];
  vms: PveGuest[];
}

/** Where a template's disk lives (from its `qm config`): its node and storage. */
export interface TemplateHome {
  node: string;
  storage: string;
}

export interface PlacementRequest {
  cluster: ClusterView;
  settings: ProxmoxClusterSettings;
  defaults: { storage: string; bridge: string; templateVmid: number };
  /** The template VMIDs' homes (a template not found in the cluster is absent). */
  templates: ReadonlyMap<number, TemplateHome>;
  plan: { memoryMb: number; diskGb: number };
  /** BlockHost's own VMs (vmid_range): what the caps count. */
  isOurs(vmid: number): boolean;
  /** This node (where the agent writes the cloud-init snippets), and the storage they go to. */
  localNode: string;
  snippetStorage: string;
  /** Creates in flight per node (placed, not yet running, so not in the cluster's figures yet). */
  pending?: ReadonlyMap<string, { vms: number; memoryMb: number; diskGb: number }>;
  /**
   * A VM that keeps its IPv4 address (a reinstall): only nodes whose pool holds it qualify.
   * `holds(node, address)` answers from the node's own ip_pool, else db.yaml's shared one.
   */
  keepAddress?: { address: string; holds(node: string, address: string): boolean };
}

/** One node as placement sees it; `refusal` says why it cannot take the VM. */
export interface Candidate {
  node: string;
  storage: string;
  bridge: string;
  templateVmid: number;
  /** Where to clone from, and how: a linked clone only from a base volume on the same storage. */
  clone: { fromNode: string; full: boolean };
  freeMemBytes: number;
  freeDiskBytes: number;
  idleCpus: number;
  ourVms: number;
  refusal?: string;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

/** Every member with its figures and, when it cannot take the VM, why. */
export function candidates(req: PlacementRequest): Candidate[] {
  const { cluster, settings, defaults, plan } = req;
  return cluster.nodes
    .map((n): Candidate => {
      const own = settings.nodes[n.node] ?? {};
      const storageId = own.storage ?? defaults.storage;
      const templateVmid = own.template_vmid ?? defaults.templateVmid;
      const storage = cluster.storages.find((s) => s.node === n.node && s.storage === storageId);
      const ours = cluster.vms.filter((v) => v.node === n.node && !v.template && req.isOurs(v.vmid));
      const inFlight = req.pending?.get(n.node) ?? { vms: 0, memoryMb: 0, diskGb: 0 };
      const ourMemMb = ours.reduce((sum, v) => sum + v.maxmem / MiB, 0) + inFlight.memoryMb;
      const home = req.templates.get(templateVmid);
      const homeStorage = home && cluster.storages.find((s) => s.node === home.node && s.storage === home.storage);
      const linked = home?.storage === storageId && LINKED_CLONE_STORAGE_TYPES.has(homeStorage?.type ?? "");
      const c: Candidate = {
        node: n.node,
        storage: storageId,
        bridge: own.bridge ?? defaults.bridge,
        templateVmid,
        clone: { fromNode: home?.node ?? n.node, full: !linked },
        freeMemBytes: Math.max(0, n.maxmem - n.mem - inFlight.memoryMb * MiB),
        freeDiskBytes: storage ? Math.max(0, storage.maxdisk - storage.disk - inFlight.diskGb * GiB) : 0,
        idleCpus: n.maxcpu * (1 - n.cpu),
        ourVms: ours.length + inFlight.vms,
      };
      const refuse = (why: string) => ({ ...c, refusal: why });
      if (!n.online) return refuse("offline");
      if (req.keepAddress && !req.keepAddress.holds(n.node, req.keepAddress.address))
        return refuse(`its IPv4 pool does not hold the VM's address ${req.keepAddress.address}`);
      if (own.drain) return refuse(`drained (proxmox.cluster.nodes.${n.node}.drain)`);
      if (own.max_vms !== undefined && c.ourVms + 1 > own.max_vms)
        return refuse(`max_vms ${own.max_vms} reached (${c.ourVms} VMs)`);
      if (own.max_memory_mb !== undefined && ourMemMb + plan.memoryMb > own.max_memory_mb)
        return refuse(`max_memory_mb ${own.max_memory_mb} would be passed (${Math.round(ourMemMb)} MiB in use)`);
      if (!storage) return refuse(`storage ${storageId} is not available on it`);
      // The VM's node reads its cloud-init snippets at start: from another node they must be on shared storage.
      const snippets = cluster.storages.find((s) => s.node === n.node && s.storage === req.snippetStorage);
      if (n.node !== req.localNode && !snippets?.shared)
        return refuse(
          `snippet storage ${req.snippetStorage} is not shared with it (set proxmox.snippet_storage to a shared file storage: NFS, CephFS)`,
        );
      if (!home) return refuse(`template VMID ${templateVmid} is not in the cluster`);
      if (home.node !== n.node && !homeStorage?.shared)
        return refuse(
          `template VMID ${templateVmid} is on ${home.node}'s local storage ${home.storage} (give this node its own template_vmid, or keep the template on shared storage)`,
        );
      if (c.freeMemBytes < plan.memoryMb * MiB)
        return refuse(`${gib(c.freeMemBytes)} free memory, the plan needs ${gib(plan.memoryMb * MiB)}`);
      if (c.freeDiskBytes < plan.diskGb * GiB)
        return refuse(`${gib(c.freeDiskBytes)} free on ${storageId}, the plan needs ${plan.diskGb} GiB`);
      return c;
    })
    .sort((a, b) => a.node.localeCompare(b.node));
}

const HEADROOM: Record<ProxmoxClusterSettings["strategy"], (c: Candidate) => number> = {
  least_loaded_ram: (c) => c.freeMemBytes,
  least_loaded_disk: (c) => c.freeDiskBytes,
  least_loaded_cpu: (c) => c.idleCpus,
};

/** The node with the most headroom under the strategy (ties: by name), or a one-line refusal naming every node's reason. */
export function placeVm(req: PlacementRequest): Candidate {
  const all = candidates(req);
  const fitting = all.filter((c) => !c.refusal);
  const headroom = HEADROOM[req.settings.strategy];
  const best = fitting.sort((a, b) => headroom(b) - headroom(a) || a.node.localeCompare(b.node))[0];
  if (best) return best;
  throw new BlockhostError(
    "E_STATE",
    `no Proxmox node can take a VM of ${req.plan.memoryMb} MiB / ${req.plan.diskGb} GiB: ${
      all.map((c) => `${c.node}: ${c.refusal}`).join("; ") || "the cluster lists no nodes"
    }`,
    { nodes: all.map((c) => ({ node: c.node, refusal: c.refusal })) },
  );
}
