/** The libvirt backend: a qcow2 overlay on the template, a NoCloud seed, a domain the agent builds, all through agent actions. */
import { AgentClient } from "../../agent/client.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { exposeVmAddress, type VmAddress, withdrawVmAddress } from "../../network/prefix-host.ts";
import { macForVmid } from "../allocate.ts";
import { libvirtTemplateFor } from "../../core/template/os.ts";
import type { AgentCaller } from "./types.ts";
import { rollBack, type UndoSteps } from "./rollback.ts";
import type { Backend, GuestExecResult, Say, VmRef, VmSpec } from "./types.ts";
import type { RawUsage } from "../../core/usage-counters.ts";
import { libvirtReadings } from "./usage-readings.ts";

/** blockhost.yaml `libvirt:` as the backend uses it. */
export interface LibvirtSettings {
  bridge: string;
  network?: string;
  template: string;
  accel: "auto" | "kvm" | "tcg";
  guestAgentTimeoutMs: number;
  /** How long an ACPI shutdown may take before the domain is powered off. */
  shutdownTimeoutMs?: number;
  /** Uplink on which to proxy neighbour discovery for VM addresses (db.yaml ipv6_pool.ndp_proxy_dev). */
  ndpUplink?: string | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Every step is an agent action and registers its undo; a failed create runs them in reverse,
 * so nothing is left half-built. `destroy` tolerates whatever is already gone.
 */
export class LibvirtBackend implements Backend {
  readonly name = "libvirt" as const;
  readonly simulated = false;
  /** "kvm" or "tcg", known after the first define on this host. */
  accel: string | null = null;

  constructor(
    private readonly settings: LibvirtSettings,
    private readonly agent: AgentCaller = new AgentClient(),
  ) {}

  async create(spec: VmSpec, say: Say): Promise<void> {
    const undo: UndoSteps = [];
    const name = spec.name;
    const template = libvirtTemplateFor(this.settings.template, spec.os);
    try {
      say(`creating the overlay disk of ${name} on ${template} (${spec.diskGb} GB)`);
      undo.push(["libvirt-vm-files-delete", () => this.agent.call("libvirt-vm-files-delete", { name })]);
      await this.agent.call("qemu-img-overlay", { name, template, size_gb: spec.diskGb });
      await this.agent.call("seed-iso-write", {
        name,
        instance_id: spec.instanceId ?? `${name}-${spec.vmid}`,
        user_data: spec.cloudInit.userData,
        network_config: spec.cloudInit.networkConfig,
      });
      const defined = await this.agent.call("virsh-define", {
        name,
        template,
        memory_mb: spec.memoryMb,
        vcpus: spec.cpu,
        mac: macForVmid(spec.vmid),
        accel: this.settings.accel,
        ...(this.settings.network ? { network: this.settings.network } : { bridge: this.settings.bridge }),
      });
      undo.push(["virsh-undefine", () => this.agent.call("virsh-undefine", { name })]);
      this.accel = String(defined.accel);
      say(
        `defined domain ${name} (${this.accel === "kvm" ? "KVM" : "QEMU TCG, software emulation"}: ${String(defined.reason)})`,
      );
      // Bound before the first start: the port exists only once the domain runs, and drops everything unbound.
      await this.agent.call("port-guard-set", {
        name,
        mac: macForVmid(spec.vmid),
        ipv4: [spec.allocation.ipv4],
        ipv6: spec.ipv6 ? [spec.ipv6] : [],
      });
      undo.push(["port-guard-clear", () => this.agent.call("port-guard-clear", { name })]);
      await this.agent.call("virsh-start", { name });
      undo.push(["virsh-destroy", () => this.agent.call("virsh-destroy", { name })]);
      await this.restoreNetwork(spec, say);
      if (spec.ipv6) undo.push(["withdraw IPv6", () => withdrawVmAddress(this.agent, this.vmAddress(spec.ipv6!))]);
      await this.waitForGuestAgent(name, say);
    } catch (e) {
      await rollBack(name, e, undo, say);
      throw e;
    }
  }

  private async waitForGuestAgent(name: string, say: Say): Promise<void> {
    const started = Date.now();
    const deadline = started + this.settings.guestAgentTimeoutMs;
    let lastSaid = 0;
    for (;;) {
      const r = await this.agent.call("virsh-guest-ping", { name });
      if (r.responding === true) {
        say(`guest agent of ${name} answered after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      }
      if (Date.now() >= deadline)
        throw new BlockhostError(
          "E_TIMEOUT",
          `guest agent of ${name} did not answer within ${this.settings.guestAgentTimeoutMs / 1000} s (${String(r.reason)})`,
        );
      if (Date.now() - lastSaid > 30_000) {
        say(`waiting for the guest agent of ${name} (booting)`);
        lastSaid = Date.now();
      }
      await sleep(2000);
    }
  }

  async start(vm: VmRef): Promise<void> {
    // After a host reboot the nftables table is gone: load it from the agent's records first.
    await this.agent.call("port-guard-sync", {});
    await this.agent.call("virsh-start", { name: vm.name });
  }

  async shutdown(vm: VmRef, say: Say): Promise<void> {
    const name = vm.name;
    const asked = await this.agent.call("virsh-shutdown", { name }).catch((e) => {
      say(`ACPI shutdown of ${name} failed (${oneLine(e)})`);
      return { requested: false };
    });
    if (asked.requested) {
      const deadline = Date.now() + (this.settings.shutdownTimeoutMs ?? 60_000);
      while (Date.now() < deadline) {
        const { state } = await this.agent.call("virsh-domstate", { name });
        if (state !== "running" && state !== "in shutdown") return;
        await sleep(1000);
      }
      say(`${name} did not power off after the ACPI request; powering it off`);
    }
    await this.agent.call("virsh-destroy", { name });
  }

  async kill(vm: VmRef): Promise<void> {
    await this.agent.call("virsh-destroy", { name: vm.name });
  }

  async reboot(vm: VmRef): Promise<void> {
    const { requested } = await this.agent.call("virsh-reboot", { name: vm.name });
    if (!requested) throw new BlockhostError("E_STATE", `${vm.name} is not running (start it instead)`);
  }

  /** Isolate the VM's bridge port (also set in the domain XML) and expose its IPv6 (host route, NDP proxy). */
  async restoreNetwork(vm: VmRef, say: Say): Promise<void> {
    const { interfaces } = await this.agent.call("virsh-domiflist", { name: vm.name });
    for (const dev of interfaces as string[]) await this.agent.call("bridge-port-isolate", { dev });
    if (vm.ipv6) await exposeVmAddress(this.agent, this.vmAddress(vm.ipv6));
    say(
      `network of ${vm.name}: ports ${(interfaces as string[]).join(", ") || "none"} isolated${vm.ipv6 ? `, route ${vm.ipv6}/128 via ${this.settings.bridge}` : ""}`,
    );
  }

  /** Idempotent: route, domain, definition and files, each tolerating "already gone". */
  async destroy(vm: VmRef, say: Say): Promise<void> {
    const name = vm.name;
    if (vm.ipv6)
      await withdrawVmAddress(this.agent, this.vmAddress(vm.ipv6)).catch((e) => say(`${oneLine(e)} (continuing)`));
    await this.agent.call("virsh-destroy", { name });
    await this.agent.call("port-guard-clear", { name });
    await this.agent.call("virsh-undefine", { name });
    await this.agent.call("libvirt-vm-files-delete", { name });
  }

  /** virsh's words, with "shut off" as Proxmox's "stopped" so both backends read alike. */
  async powerState(vm: VmRef): Promise<string> {
    const { state } = await this.agent.call("virsh-domstate", { name: vm.name });
    return state === "shut off" ? "stopped" : String(state);
  }

  sampleUsage(vms: readonly VmRef[], at: number): Promise<RawUsage[]> {
    return libvirtReadings(this.agent, vms, at);
  }

  private vmAddress(address: string): VmAddress {
    return { address, bridge: this.settings.bridge, ndpUplink: this.settings.ndpUplink };
  }

  async guestExec(vm: VmRef, argv: string[]): Promise<GuestExecResult> {
    const r = await this.agent.call("virsh-guest-exec", { name: vm.name, command: argv });
    return { exitcode: Number(r.exitcode ?? 1), stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
  }
}
