/** The dry-run backend: everything but the hypervisor calls. */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "../../core/paths.ts";
import type { RawUsage } from "../../core/usage-counters.ts";
import type { Backend, Say, VmRef, VmSpec } from "./types.ts";
import { dryRunReadings } from "./usage-readings.ts";

/**
 * Every step except the hypervisor calls: allocation, rendering and bookkeeping are real, the
 * cloud-init files are written under the state dir, and each skipped call is announced.
 */
export class DryRunBackend implements Backend {
  readonly name = "dry-run" as const;
  readonly simulated = true;

  async create(spec: VmSpec, say: Say): Promise<void> {
    const dir = join(paths.cloudInitDir, spec.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "user-data"), spec.cloudInit.userData, { mode: 0o600 });
    writeFileSync(join(dir, "network-config"), spec.cloudInit.networkConfig, { mode: 0o600 });
    say(
      `dry-run: cloud-init written to ${dir}; hypervisor not called (no clone, start or routes for VMID ${spec.vmid})`,
    );
  }

  async start(vm: VmRef, say: Say): Promise<void> {
    say(`dry-run: would start ${vm.name} (VMID ${vm.vmid})`);
  }
  async shutdown(vm: VmRef, say: Say): Promise<void> {
    say(`dry-run: would shut down ${vm.name} (VMID ${vm.vmid})`);
  }
  async kill(vm: VmRef, say: Say): Promise<void> {
    say(`dry-run: would power off ${vm.name} (VMID ${vm.vmid})`);
  }
  async reboot(vm: VmRef, say: Say): Promise<void> {
    say(`dry-run: would reboot ${vm.name} (VMID ${vm.vmid})`);
  }
  async restoreNetwork(vm: VmRef, say: Say): Promise<void> {
    if (vm.ipv6) say(`dry-run: would add route ${vm.ipv6}/128`);
  }

  async destroy(vm: VmRef, say: Say): Promise<void> {
    rmSync(join(paths.cloudInitDir, vm.name), { recursive: true, force: true });
    say(`dry-run: would destroy ${vm.name} (VMID ${vm.vmid})`);
  }

  async powerState(): Promise<null> {
    return null;
  }

  async sampleUsage(vms: readonly VmRef[], at: number): Promise<RawUsage[]> {
    return dryRunReadings(vms, at);
  }

  async guestExec(): Promise<{ exitcode: number; stdout: string; stderr: string }> {
    return { exitcode: 0, stdout: "", stderr: "dry-run: guest command not run" };
  }
}
