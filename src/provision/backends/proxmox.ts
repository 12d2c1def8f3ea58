/** The Proxmox backend: qm through the agent, with rollback. */
import { AgentClient } from "../../agent/client.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import type { Backend, GuestExecResult, Say, VmRef, VmSpec } from "./types.ts";

/** Proxmox settings the backend needs (blockhost.yaml `proxmox:`). */
export interface ProxmoxSettings {
  bridge: string;
  templateVmid: number;
  /** How long to wait for the guest agent after start. */
  guestAgentTimeoutMs: number;
}

/** The agent, as the backend uses it: the typed client (each action's params checked at compile time). */
export type AgentCaller = Pick<AgentClient, "call">;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tap = (vmid: number) => `tap${vmid}i0`;

/**
 * Linked clone of the template configured with `qm set` (cores, memory, ipconfig0, a cicustom
 * user-data snippet), resized and started, each step an agent action. Every completed step
 * registers its undo; a failure runs them in reverse, so nothing is left half-built.
 */
export class ProxmoxBackend implements Backend {
  readonly name = "proxmox" as const;
  readonly simulated = false;

  constructor(private readonly settings: ProxmoxSettings, private readonly agent: AgentCaller = new AgentClient()) {}

  async create(spec: VmSpec, say: Say): Promise<void> {
    const undo: Array<[string, () => Promise<unknown>]> = [];
    const { vmid } = spec;
    try {
      say(`writing cloud-init snippet for ${spec.name}`);
      const written = await this.agent.call("cloudinit-write", { name: spec.name, content: spec.cloudInit.userData });
      undo.push(["cloudinit-delete", () => this.agent.call("cloudinit-delete", { name: spec.name })]);
      const volume = String(written.volume);

      say(`cloning template ${this.settings.templateVmid} to VMID ${vmid}`);
      await this.agent.call("qm-clone", { vmid: this.settings.templateVmid, newid: vmid, name: spec.name });
      undo.push(["qm-destroy", () => this.agent.call("qm-destroy", { vmid })]);

      await this.agent.call("qm-set", {
        vmid,
        options: { cores: spec.cpu, memory: spec.memoryMb, ipconfig0: spec.cloudInit.ipconfig0, nameserver: spec.allocation.gateway, cicustom: `user=${volume}`, agent: "1" },
      });
      await this.agent.call("qm-resize", { vmid, disk: "scsi0", size: `${spec.diskGb}G` });

      say(`starting VMID ${vmid}`);
      await this.agent.call("qm-start", { vmid });
      undo.push(["qm-stop", () => this.agent.call("qm-stop", { vmid })]);
      await this.waitForGuestAgent(vmid, say);

      if (spec.ipv6) {
        await this.agent.call("ip6-route-add", { address: `${spec.ipv6}/128`, dev: this.settings.bridge });
        undo.push(["ip6-route-del", () => this.agent.call("ip6-route-del", { address: `${spec.ipv6}/128`, dev: this.settings.bridge })]);
      }
      await this.agent.call("bridge-port-isolate", { dev: tap(vmid) });
    } catch (e) {
      say(`create of ${spec.name} failed (${oneLine(e)}); rolling back`);
      for (const [what, step] of undo.reverse()) {
        try { await step(); } catch (u) { say(`rollback step ${what} failed: ${oneLine(u)}`); }
      }
      throw e;
    }
  }

  private async waitForGuestAgent(vmid: number, say: Say): Promise<void> {
    const deadline = Date.now() + this.settings.guestAgentTimeoutMs;
    let last: unknown = "no answer";
    for (;;) {
      const r = await this.agent.call("qm-guest-ping", { vmid });
      if (r.responding === true) return;
      last = r.reason;
      if (Date.now() >= deadline) throw new BlockhostError("E_TIMEOUT", `guest agent of VMID ${vmid} did not answer within ${this.settings.guestAgentTimeoutMs / 1000} s (${String(last)})`);
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
    if (vm.ipv6) await this.agent.call("ip6-route-add", { address: `${vm.ipv6}/128`, dev: this.settings.bridge });
  }

  /** Idempotent: each step tolerates "already gone" (qm-destroy reports it as `destroyed: false`). */
  async destroy(vm: VmRef, say: Say): Promise<void> {
    if (vm.ipv6) await this.tolerant(say, "ip6-route-del", () => this.agent.call("ip6-route-del", { address: `${vm.ipv6}/128`, dev: this.settings.bridge }));
    await this.tolerant(say, "qm-stop", () => this.agent.call("qm-stop", { vmid: vm.vmid }));
    await this.agent.call("qm-destroy", { vmid: vm.vmid });
    await this.tolerant(say, "cloudinit-delete", () => this.agent.call("cloudinit-delete", { name: vm.name }));
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
