/**
 * What the `backend` and `template` steps ask of a hypervisor. The libvirt and Proxmox backends
 * plug their own checks and template builders in here; dry-run needs neither.
 */
import { existsSync } from "node:fs";
import { BlockhostError } from "../../core/errors.ts";
import type { SetupContext } from "../context.ts";
import type { BackendChoice } from "../schema.ts";

export interface HypervisorSetup {
  /** Bridge/storage prerequisites; throws a one-line error naming what is missing. */
  check(ctx: SetupContext): Promise<Record<string, unknown>>;
  /** Build the VM template when the backend needs one and it is missing. */
  ensureTemplate(ctx: SetupContext): Promise<Record<string, unknown>>;
}

/** A host network interface exists (read from sysfs: no privilege needed). */
function requireBridge(ctx: SetupContext, key: string, bridge: string): void {
  if (!existsSync(`/sys/class/net/${bridge}`)) {
    throw new BlockhostError("E_CONFIG_INVALID", `${ctx.fileName}: ${key}: no network interface named ${bridge} on this host`);
  }
}

const dryRun: HypervisorSetup = {
  check: async () => ({ backend: "dry-run", note: "no hypervisor is called; nothing to check" }),
  ensureTemplate: async () => ({ template: "none needed (dry-run)" }),
};

const notWired = (name: string) => async (): Promise<Record<string, unknown>> => {
  throw new BlockhostError("E_STATE", `the ${name} template build is not available in this build of blockhost`);
};

export function hypervisorFor(backend: BackendChoice): HypervisorSetup {
  if (backend === "dry-run") return dryRun;
  if ("proxmox" in backend) {
    return {
      check: async (ctx) => {
        requireBridge(ctx, "backend.proxmox.bridge", backend.proxmox.bridge);
        return { backend: "proxmox", bridge: backend.proxmox.bridge, storage: backend.proxmox.storage };
      },
      ensureTemplate: notWired("Proxmox"),
    };
  }
  return {
    check: async (ctx) => {
      requireBridge(ctx, "backend.libvirt.bridge", backend.libvirt.bridge);
      return { backend: "libvirt", bridge: backend.libvirt.bridge, storage_path: backend.libvirt.storage_path };
    },
    ensureTemplate: notWired("libvirt"),
  };
}
