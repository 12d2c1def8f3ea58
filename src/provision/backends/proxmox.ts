/** The Proxmox backend: qm through the agent, with rollback. */
import { AgentClient } from "../../agent/client.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { exposeVmAddress, type VmAddress, withdrawVmAddress } from "../../network/prefix-host.ts";
import { templateProblems } from "./proxmox-template.ts";
import { type OsId, proxmoxTemplateFor } from "../../template/os.ts";
import { rollBack, type UndoSteps } from "./rollback.ts";
import type { Backend, GuestExecResult, Say, VmRef, VmSpec } from "./types.ts";

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
}

/** The agent, as the backend uses it: the typed client (each action's params checked at compile time). */
export type AgentCaller = Pick<AgentClient, "call">;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tap = (vmid: number) => `tap${vmid}i0`;
/** net0 with the PVE firewall switched on (`firewall=1`), everything else (model, MAC, bridge, tag) kept. */
export const withFirewall = (net0: string) =>
  [...net0.split(",").filter((item) => item !== "" && !item.startsWith("firewall=")), "firewall=1"].join(",");

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

  constructor(
    private readonly settings: ProxmoxSettings,
    private readonly agent: AgentCaller = new AgentClient(),
  ) {}

  async create(spec: VmSpec, say: Say): Promise<void> {
    const undo: UndoSteps = [];
    const { vmid } = spec;
    await this.preflight(spec);
    const templateVmid = this.templateOf(spec.os);
    const storage = this.snippetStorage;
    try {
      say(`writing cloud-init snippets for ${spec.name} to ${storage}`);
      // A fixed instance-id: Proxmox's own is a hash over the host's search domain too (new id = new SSH host keys).
      const written = await this.agent.call("cloudinit-write", {
        name: spec.name,
        content: spec.cloudInit.userData,
        storage,
        instance_id: `blockhost-${vmid}`,
      });
      undo.push(["cloudinit-delete", () => this.agent.call("cloudinit-delete", { name: spec.name, storage })]);
      if (!written.meta_volume)
        throw new BlockhostError("E_AGENT_PROTOCOL", "cloudinit-write returned no meta-data volume (agent too old?)");

      say(`cloning template ${templateVmid} to VMID ${vmid}`);
      await this.agent.call("qm-clone", { vmid: templateVmid, newid: vmid, name: spec.name });
      undo.push(["qm-destroy", () => this.agent.call("qm-destroy", { vmid })]);

      // Anti-spoofing: the PVE firewall's MAC/IP filters on net0 (the file first, so the NIC never runs unfiltered).
      await this.agent.call("pve-firewall-write", {
        vmid,
        ipv4: [spec.allocation.ipv4],
        ipv6: spec.ipv6 ? [spec.ipv6] : [],
      });
      undo.push(["pve-firewall-delete", () => this.agent.call("pve-firewall-delete", { vmid })]);
      const { config: cloned } = await this.agent.call("qm-config", { vmid });
      await this.agent.call("qm-set", {
        vmid,
        options: {
          net0: withFirewall(cloned.net0 ?? ""),
          cores: spec.cpu,
          memory: spec.memoryMb,
          ipconfig0: spec.cloudInit.ipconfig0,
          nameserver: spec.cloudInit.nameservers.join(" "),
          cicustom: `user=${written.volume},meta=${written.meta_volume}`,
          agent: "1",
        },
      });
      await this.agent.call("qm-resize", { vmid, disk: "scsi0", size: `${spec.diskGb}G` });

      say(`starting VMID ${vmid}`);
      await this.agent.call("qm-start", { vmid });
      undo.push(["qm-stop", () => this.agent.call("qm-stop", { vmid })]);
      await this.waitForGuestAgent(vmid, say);

      if (spec.ipv6) {
        const address = this.vmAddress(spec.ipv6);
        await exposeVmAddress(this.agent, address);
        undo.push(["withdraw IPv6", () => withdrawVmAddress(this.agent, address)]);
      }
      await this.agent.call("bridge-port-isolate", { dev: tap(vmid) });
    } catch (e) {
      await rollBack(spec.name, e, undo, say);
      throw e;
    }
  }

  private templateOf(os: OsId | undefined): number {
    return proxmoxTemplateFor(this.settings.templateVmid, this.settings.templateVmids, os);
  }

  private get snippetStorage(): string {
    return this.settings.snippetStorage ?? "local";
  }

  /** The template must have a cloud-init drive, net0 and a scsi0 no larger than the plan's disk (Proxmox cannot shrink). */
  async preflight(spec: { diskGb: number; os?: OsId }): Promise<void> {
    const id = this.templateOf(spec.os);
    const { config } = await this.agent.call("qm-config", { vmid: id });
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

  private async waitForGuestAgent(vmid: number, say: Say): Promise<void> {
    const deadline = Date.now() + this.settings.guestAgentTimeoutMs;
    let last: unknown = "no answer";
    for (;;) {
      const r = await this.agent.call("qm-guest-ping", { vmid });
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
    await this.agent.call("qm-start", { vmid: vm.vmid });
  }

  async shutdown(vm: VmRef, say: Say): Promise<void> {
    try {
      await this.agent.call("qm-shutdown", { vmid: vm.vmid });
    } catch (e) {
      say(`graceful shutdown of ${vm.name} failed (${oneLine(e)}); stopping it`);
      await this.agent.call("qm-stop", { vmid: vm.vmid });
    }
  }

  async kill(vm: VmRef): Promise<void> {
    await this.agent.call("qm-stop", { vmid: vm.vmid });
  }

  async restoreNetwork(vm: VmRef): Promise<void> {
    if (vm.ipv6) await exposeVmAddress(this.agent, this.vmAddress(vm.ipv6));
  }

  /** Idempotent: each step tolerates "already gone" (qm-destroy reports it as `destroyed: false`). */
  async destroy(vm: VmRef, say: Say): Promise<void> {
    if (vm.ipv6)
      await this.tolerant(say, "withdraw IPv6", () => withdrawVmAddress(this.agent, this.vmAddress(vm.ipv6!)));
    await this.tolerant(say, "qm-stop", () => this.agent.call("qm-stop", { vmid: vm.vmid }));
    await this.agent.call("qm-destroy", { vmid: vm.vmid });
    await this.tolerant(say, "pve-firewall-delete", () => this.agent.call("pve-firewall-delete", { vmid: vm.vmid }));
    await this.tolerant(say, "cloudinit-delete", () =>
      this.agent.call("cloudinit-delete", { name: vm.name, storage: this.snippetStorage }),
    );
  }

  private vmAddress(address: string): VmAddress {
    return { address, bridge: this.settings.bridge, ndpUplink: this.settings.ndpUplink };
  }

  async powerState(vm: VmRef): Promise<string> {
    return String((await this.agent.call("qm-status", { vmid: vm.vmid })).status);
  }

  async guestExec(vm: VmRef, argv: string[]): Promise<GuestExecResult> {
    const r = await this.agent.call("qm-guest-exec", { vmid: vm.vmid, command: argv });
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
