/**
 * The hypervisor behind the `backend` and `template` steps: libvirt and Proxmox plug their checks
 * and template builders in here; dry-run needs neither.
 */
import type { BackendChoice } from "../schema.ts";
import type { HypervisorSetup } from "./hypervisor-common.ts";
import { libvirtSetup } from "./hypervisor-libvirt.ts";
import { proxmoxSetup } from "./hypervisor-proxmox.ts";

export type { HypervisorSetup };

const dryRun: HypervisorSetup = {
  check: async () => ({ backend: "dry-run", note: "no hypervisor is called; nothing to check" }),
  ensureTemplate: async () => ({ template: "none needed (dry-run)" }),
};

export function hypervisorFor(backend: BackendChoice): HypervisorSetup {
  if (backend === "dry-run") return dryRun;
  if ("proxmox" in backend) return proxmoxSetup(backend.proxmox);
  return libvirtSetup(backend.libvirt);
}
