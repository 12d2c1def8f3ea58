/** The Proxmox backend: qm through the agent, with rollback. */
import { AgentClient } from "../../agent/client.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { exposeVmAddress, type VmAddress, withdrawVmAddress } from "../../network/prefix-host.ts";
import { ProxmoxCluster, type ClusterSettings } from "./proxmox-cluster.ts";
import type { Candidate } from "./proxmox-placement.ts";
import { templateProblems } from "./proxmox-template.ts";
import { DEFAULT_OS, type OsId, proxmoxTemplateFor } from "../../core/template/os.ts";
import { rollBack, type UndoSteps } from "./rollback.ts";
import type { Ipv4Pool } from "../../core/config/network.ts";
import type {
  AgentCaller,
  Backend,
  CreateResult,
  GuestExecResult,
  Placement,
  PreflightPlan,
  Say,
  VmRef,
  VmSpec,
} from "./types.ts";

/** A cluster placement as this backend makes it: the chosen node's details, counted until released. */
type PlacedCandidate = Candidate & Placement;
import type { RawUsage } from "../../core/usage-counters.ts";
import { proxmoxReadings } from "./usage-readings.ts";

/** Proxmox settings the backend needs (blockhost.yaml `proxmox:`). */
export interface ProxmoxSettings {
  bridge: string;
  templateVmid: number;
  /** Template VMIDs of other OSes (blockhost.yaml proxmox.template_vmids). */
  templateVmids?: Partial<Record<OsId, number>>;
  /** Where cloud-init snippets go (blockhost.yaml proxmox.snippet_storage, default `local`). */
  snippetStorage?: string;
  /** How long to wait for the guest agent after start. */
  guestAgentTimeoutMs: number;
  /** Uplink on which to proxy neighbour discovery for VM addresses (db.yaml ipv6_pool.ndp_proxy_dev). */
  ndpUplink?: string;
  /** On a Proxmox VE cluster (blockhost.yaml proxmox.cluster): placement across its nodes. */
  cluster?: ClusterSettings;
}

/** The agent, as the backend uses it: the typed client (each action's params checked at compile time). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tap = (vmid: number) => `tap${vmid}i0`;
/** net0 with the PVE firewall switched on (`firewall=1`), everything else (model, MAC, bridge, tag) kept. */
export const withFirewall = (net0: string) =>
  [...net0.split(",").filter((item) => item !== "" && !item.startsWith("firewall=")), "firewall=1"].join(",");

/** The MAC of a net0 property string (`virtio=BC:24:11:5E:00:01,bridge=vmbr0`), if it names one. */
const macOfNet0 = (net0: string) =>
  /(?:^|,)(?:virtio|e1000|rtl8139|vmxnet3)=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?:,|$)/.exec(net0)?.[1];

/** net0 on the node's bridge (a cluster node's own `bridge:`); the clone's model and new MAC kept. */
const onBridge = (net0: string, bridge: string | undefined) =>
  bridge ? net0.replace(/(^|,)bridge=[^,]*/, `$1bridge=${bridge}`) : net0;

/**
 * Linked clone of the template configured with `qm set` (cores, memory, ipconfig0, cicustom
 * user-data and pinned meta-data snippets), resized and started, each step an agent action.
 * The template is checked first (nothing is allocated on Proxmox for a VM it cannot serve).
 * Every completed step registers its undo; a failure runs them in reverse, so nothing is left
 * half-built.
 */
export class ProxmoxBackend implements Backend {
  readonly name = "proxmox" as const;
  readonly simulated = false;
  /** Set on a cluster: every VM call then names the VM's node (the cluster API), not local `qm`. */
  readonly cluster?: ProxmoxCluster;

  constructor(
    private readonly settings: ProxmoxSettings,
    private readonly agent: AgentCaller = new AgentClient(),
  ) {
    if (settings.cluster) this.cluster = new ProxmoxCluster(settings.cluster, agent);
  }

  async create(spec: VmSpec, say: Say): Promise<CreateResult> {
    const undo: UndoSteps = [];
    const { vmid } = spec;
    const place = (spec.placement as PlacedCandidate | undefined) ?? (await this.preflight(spec));
    const node = place?.node;
    const storage = this.snippetStorage;
    const release = () => place?.release();
    try {
      say(`writing cloud-init snippets for ${spec.name} to ${storage}`);
      // A fixed instance-id: Proxmox's own is a hash over the host's search domain too (new id = new SSH host keys).
      const written = await this.agent.call("cloudinit-write", {
        name: spec.name,
        content: spec.cloudInit.userData,
        storage,
        instance_id: spec.instanceId ?? `blockhost-${vmid}`,
      });
      undo.push(["cloudinit-delete", () => this.agent.call("cloudinit-delete", { name: spec.name, storage })]);
      if (!written.meta_volume)
        throw new BlockhostError("E_AGENT_PROTOCOL", "cloudinit-write returned no meta-data volume (agent too old?)");

      const templateVmid = this.templateOf(spec.os, place);
      if (place) {
        say(
          `placing VMID ${vmid} on node ${place.node} (${this.settings.cluster!.settings.strategy}); ${place.clone.full ? `full clone to ${place.storage}` : "linked clone"} of template ${templateVmid} on ${place.clone.fromNode}`,
        );
        await this.agent.call("qm-clone", {
          vmid: templateVmid,
          newid: vmid,
          name: spec.name,
          node: place.clone.fromNode,
          ...(place.node !== place.clone.fromNode ? { target: place.node } : {}),
          ...(place.clone.full ? { full: true, storage: place.storage } : {}),
        });
      } else {
        say(`cloning template ${templateVmid} to VMID ${vmid}`);
        await this.agent.call("qm-clone", { vmid: templateVmid, newid: vmid, name: spec.name });
      }
      undo.push(["qm-destroy", () => this.agent.call("qm-destroy", { vmid, ...at(node) })]);

      // Anti-spoofing: the PVE firewall's MAC/IP filters on net0 (the file first, so the NIC never runs unfiltered).
      // /etc/pve/firewall/<vmid>.fw is pmxcfs: written here, it holds on whichever node runs the VM.
      await this.agent.call("pve-firewall-write", {
        vmid,
        ipv4: [spec.allocation.ipv4],
        ipv6: spec.ipv6 ? [spec.ipv6] : [],
      });
      undo.push(["pve-firewall-delete", () => this.agent.call("pve-firewall-delete", { vmid })]);
      const { config: cloned } = await this.agent.call("qm-config", { vmid, ...at(node) });
      // The agent's own bridge rules on tap<vmid>i0 also check neighbour advertisement targets, which
      // the PVE firewall cannot (docs/security/network.md); they apply on the agent's node.
      const mac = macOfNet0(cloned.net0 ?? "");
      if (mac) {
        await this.agent.call("pve-port-guard-set", {
          vmid,
          mac,
          ipv4: [spec.allocation.ipv4],
          ipv6: spec.ipv6 ? [spec.ipv6] : [],
        });
        undo.push(["pve-port-guard-clear", () => this.agent.call("pve-port-guard-clear", { vmid })]);
      }
      await this.agent.call("qm-set", {
        vmid,
        ...at(node),
        options: {
          net0: withFirewall(onBridge(cloned.net0 ?? "", place?.bridge)),
          cores: spec.cpu,
          memory: spec.memoryMb,
          ipconfig0: spec.cloudInit.ipconfig0,
          nameserver: spec.cloudInit.nameservers.join(" "),
          cicustom: `user=${written.volume},meta=${written.meta_volume}`,
          agent: "1",
        },
      });
      await this.agent.call("qm-resize", { vmid, ...at(node), disk: "scsi0", size: `${spec.diskGb}G` });

      say(`starting VMID ${vmid}${node ? ` on ${node}` : ""}`);
      await this.agent.call("qm-start", { vmid, ...at(node) });
      undo.push(["qm-stop", () => this.agent.call("qm-stop", { vmid, ...at(node) })]);
      await this.waitForGuestAgent(vmid, node, say);

      if (spec.ipv6) {
        const address = this.vmAddress(spec.ipv6);
        await exposeVmAddress(this.agent, address);
        undo.push(["withdraw IPv6", () => withdrawVmAddress(this.agent, address)]);
      }
      if (this.isLocal(node)) await this.isolate(vmid, say);
      else
        say(`VMID ${vmid} runs on ${node}: its port there is guarded by the Proxmox firewall, not this node's bridge`);
    } catch (e) {
      await rollBack(spec.name, e, undo, say);
      throw e;
    } finally {
      release();
    }
    return node ? { node } : {};
  }

  private isLocal(node: string | undefined): boolean {
    return node === undefined || node === this.settings.cluster?.localNode;
  }

  /**
   * The node that holds the VM now (HA recovery and migrations move it): asked of the cluster, not
   * taken from the record; undefined on a single node (local `qm`). Panel and engine power jobs use it.
   */
  async nodeOf(vm: VmRef): Promise<string | undefined> {
    if (!this.cluster) return undefined;
    const node = await this.cluster.nodeOf(vm.vmid);
    if (!node)
      throw new BlockhostError("E_NOT_FOUND", `VMID ${vm.vmid} (${vm.name}) is on no node of the Proxmox cluster`);
    return node;
  }

  /** Where the VM is now, or null when the cluster has no such VMID (single node: undefined = local). */
  private async where(vm: VmRef): Promise<{ node?: string } | null> {
    if (!this.cluster) return {};
    const node = await this.cluster.nodeOf(vm.vmid);
    return node ? { node } : null;
  }

  async vmidFree(vmid: number): Promise<boolean> {
    return this.cluster ? this.cluster.vmidFree(vmid) : true;
  }

  async locateAll(): Promise<Map<number, string> | null> {
    return this.cluster ? this.cluster.locateAll() : null;
  }

  sampleUsage(vms: readonly VmRef[], at: number): Promise<RawUsage[]> {
    return proxmoxReadings(this.agent, vms, at);
  }

  /**
   * The template to clone: the default OS's is the placed node's own on a cluster; another OS's is
   * proxmox.template_vmids' (one per cluster; a node other than its own clones it across).
   */
  private templateOf(os: OsId | undefined, place?: Candidate): number {
    if ((os === undefined || os === DEFAULT_OS) && place) return place.templateVmid;
    return proxmoxTemplateFor(this.settings.templateVmid, this.settings.templateVmids, os);
  }

  private get snippetStorage(): string {
    return this.settings.snippetStorage ?? "local";
  }

  /**
   * The template must have a cloud-init drive, net0, a base-volume scsi0 no larger than the plan's
   * disk (Proxmox cannot shrink). On a cluster the VM is placed first (refused here when no node
   * fits, before a VMID is spent) and the template checked is that node's.
   */
  async preflight(spec: PreflightPlan): Promise<PlacedCandidate | undefined> {
    const place = await this.place(spec);
    try {
      this.checkTemplate(spec, place, await this.templateConfig(spec, place));
    } catch (e) {
      place?.release();
      throw e;
    }
    return place;
  }

  /** On a cluster: the node for this VM, counted against it until released. */
  private async place(spec: PreflightPlan): Promise<PlacedCandidate | undefined> {
    if (!this.cluster) return undefined;
    const plan = { memoryMb: spec.memoryMb ?? 0, diskGb: spec.diskGb };
    const place = await this.cluster.place({ ...plan, ...(spec.keepAddress ? { keepAddress: spec.keepAddress } : {}) });
    return { ...place, release: this.cluster.reserve(place.node, plan) };
  }

  private async templateConfig(spec: PreflightPlan, place: Candidate | undefined) {
    const id = this.templateOf(spec.os, place);
    return (await this.agent.call("qm-config", { vmid: id, ...at(place?.clone.fromNode) })).config;
  }

  private checkTemplate(spec: PreflightPlan, place: Candidate | undefined, config: Record<string, string>): void {
    const id = this.templateOf(spec.os, place);
    const problems = templateProblems(id, config, { contents: false });
    if (problems.length)
      throw new BlockhostError("E_STATE", `template VMID ${id} cannot serve VMs: ${problems.join("; ")}`);
    const size = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)(?:,|$)/.exec(config.scsi0 ?? "");
    const templateGb = size
      ? Number(size[1]) * { "": 2 ** -30, K: 2 ** -20, M: 2 ** -10, G: 1, T: 1024 }[size[2]!]!
      : 0;
    if (templateGb > spec.diskGb) {
      throw new BlockhostError(
        "E_INVALID_INPUT",
        `disk ${spec.diskGb} GiB is smaller than template VMID ${id}'s scsi0 (${size![1]}${size![2]}); Proxmox cannot shrink disks`,
      );
    }
  }

  ipv4PoolOf(node: string): Ipv4Pool | undefined {
    return this.cluster?.ipv4PoolOf(node);
  }

  private async waitForGuestAgent(vmid: number, node: string | undefined, say: Say): Promise<void> {
    const deadline = Date.now() + this.settings.guestAgentTimeoutMs;
    let last: unknown = "no answer";
    for (;;) {
      const r = await this.agent.call("qm-guest-ping", { vmid, ...at(node) });
      if (r.responding === true) return;
      last = r.reason;
      if (Date.now() >= deadline)
        throw new BlockhostError(
          "E_TIMEOUT",
          `guest agent of VMID ${vmid} did not answer within ${this.settings.guestAgentTimeoutMs / 1000} s (${String(last)})`,
        );
      say(`waiting for the guest agent of VMID ${vmid}`);
      await sleep(3000);
    }
  }

  async start(vm: VmRef): Promise<void> {
    await this.agent.call("qm-start", { vmid: vm.vmid, ...at(await this.nodeOf(vm)) });
  }

  async shutdown(vm: VmRef, say: Say): Promise<void> {
    const node = at(await this.nodeOf(vm));
    try {
      await this.agent.call("qm-shutdown", { vmid: vm.vmid, ...node });
    } catch (e) {
      say(`graceful shutdown of ${vm.name} failed (${oneLine(e)}); stopping it`);
      await this.agent.call("qm-stop", { vmid: vm.vmid, ...node });
    }
  }

  async kill(vm: VmRef): Promise<void> {
    await this.agent.call("qm-stop", { vmid: vm.vmid, ...at(await this.nodeOf(vm)) });
  }

  async reboot(vm: VmRef): Promise<void> {
    await this.agent.call("qm-reboot", { vmid: vm.vmid, ...at(await this.nodeOf(vm)) });
  }

  /** A start recreates the VM's devices (and drops their isolation flag): isolate again, re-expose IPv6. */
  async restoreNetwork(vm: VmRef, say: Say): Promise<void> {
    // Only this node's bridge is ours to set; on another node the Proxmox firewall guards the port.
    if (this.isLocal(await this.nodeOf(vm))) await this.isolate(vm.vmid, say);
    if (vm.ipv6) await exposeVmAddress(this.agent, this.vmAddress(vm.ipv6));
  }

  /**
   * Isolate the VM's port on the bridge. With `firewall=1` Proxmox puts the tap on its own fwbrNi0
   * bridge and joins that to the VM bridge through a veth whose bridge end is fwprNp0: that is then
   * the port to isolate. Hosts on the nftables firewall plug the tap directly, with no fwpr device.
   */
  private async isolate(vmid: number, say: Say): Promise<void> {
    await this.agent.call("bridge-port-isolate", { dev: tap(vmid) });
    await this.tolerant(say, `isolate fwpr${vmid}p0`, () =>
      this.agent.call("bridge-port-isolate", { dev: `fwpr${vmid}p0` }),
    );
  }

  /** Idempotent: each step tolerates "already gone" (qm-destroy reports it as `destroyed: false`; a VMID on no node is gone). */
  async destroy(vm: VmRef, say: Say): Promise<void> {
    if (vm.ipv6)
      await this.tolerant(say, "withdraw IPv6", () => withdrawVmAddress(this.agent, this.vmAddress(vm.ipv6!)));
    const where = await this.where(vm);
    if (where) {
      await this.tolerant(say, "qm-stop", () => this.agent.call("qm-stop", { vmid: vm.vmid, ...where }));
      await this.agent.call("qm-destroy", { vmid: vm.vmid, ...where });
    } else say(`VMID ${vm.vmid} is on no node of the cluster: nothing to destroy`);
    await this.tolerant(say, "pve-firewall-delete", () => this.agent.call("pve-firewall-delete", { vmid: vm.vmid }));
    await this.tolerant(say, "pve-port-guard-clear", () => this.agent.call("pve-port-guard-clear", { vmid: vm.vmid }));
    await this.tolerant(say, "cloudinit-delete", () =>
      this.agent.call("cloudinit-delete", { name: vm.name, storage: this.snippetStorage }),
    );
  }

  /**
   * The /128 route and NDP proxy entry stay on this node (the one the upstream routes the prefix
   * to); on a cluster the VM is reached over the bridge/VLAN every node shares, wherever it runs.
   */
  private vmAddress(address: string): VmAddress {
    return { address, bridge: this.settings.bridge, ndpUplink: this.settings.ndpUplink };
  }

  async powerState(vm: VmRef): Promise<string> {
    const where = await this.where(vm);
    if (!where) return "missing";
    return String((await this.agent.call("qm-status", { vmid: vm.vmid, ...where })).status);
  }

  async guestExec(vm: VmRef, argv: string[]): Promise<GuestExecResult> {
    const r = await this.agent.call("qm-guest-exec", { vmid: vm.vmid, command: argv, ...at(await this.nodeOf(vm)) });
    return { exitcode: Number(r.exitcode ?? 1), stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
  }

  private async tolerant(say: Say, action: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (e) {
      say(`${action}: ${oneLine(e)} (continuing)`);
    }
  }
}

/** `{node}` for an agent call when a node is named, else nothing (local qm). */
const at = (node: string | undefined): { node?: string } => (node === undefined ? {} : { node });
