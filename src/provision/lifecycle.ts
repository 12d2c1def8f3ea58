/** Resume, suspend, destroy, start and stop recorded VMs. */
import { BlockhostError } from "../core/errors.ts";
import type { VmRef } from "./backends/index.ts";
import { iso, now } from "../core/clock.ts";
import type { Provisioner } from "./context.ts";
import { releaseAddresses } from "../core/state/allocations.ts";
import { getVm, requireVm, updateVm, type VmRecord } from "../core/state/vms.ts";

export const ref = (vm: VmRecord): VmRef => ({ name: vm.vm_name, vmid: vm.vmid, ipv6: vm.ipv6_address });

function live(p: Provisioner, name: string): VmRecord {
  const vm = requireVm(p.db, name);
  if (vm.status === "destroyed") throw new BlockhostError("E_STATE", `VM ${name} is destroyed`);
  return vm;
}

/**
 * Destroy a VM and release its addresses and route. Idempotent: an unknown or already
 * destroyed VM is success (returns false: nothing was done).
 */
export async function destroyVm(p: Provisioner, name: string): Promise<boolean> {
  const vm = getVm(p.db, name);
  if (!vm || vm.status === "destroyed") return false;
  await p.backend.destroy(ref(vm), p.say);
  p.db.transaction(() => {
    updateVm(p.db, name, { status: "destroyed", destroyed_at: iso(now()) });
    releaseAddresses(p.db, name);
  })();
  return true;
}

/** Shut an expired VM down (graceful, then hard) and mark it suspended. */
export async function suspendVm(p: Provisioner, name: string): Promise<void> {
  const vm = live(p, name);
  if (vm.status === "suspended") return;
  await p.backend.shutdown(ref(vm), p.say);
  updateVm(p.db, name, { status: "suspended", suspended_at: iso(now()) });
}

/**
 * Start a suspended VM again and mark it active. `expiresAt`, when given, is the new absolute
 * expiry (the engine passes the chain's); the expiry is never computed by adding days.
 */
export async function resumeVm(p: Provisioner, name: string, expiresAt?: Date): Promise<VmRecord> {
  const vm = live(p, name);
  if (vm.status === "creating") throw new BlockhostError("E_STATE", `VM ${name} is still being created`);
  if (vm.status === "suspended") {
    await p.backend.start(ref(vm), p.say);
    await p.backend.restoreNetwork(ref(vm), p.say);
  }
  updateVm(p.db, name, { status: "active", suspended_at: null, ...(expiresAt ? { expires_at: iso(expiresAt) } : {}) });
  return requireVm(p.db, name);
}
