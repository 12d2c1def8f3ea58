/**
 * What the `backend` and `template` steps ask of a hypervisor. The libvirt and Proxmox backends
 * plug their own checks and template builders in here; dry-run needs neither.
 */
import { existsSync } from "node:fs";
import { BlockhostError } from "../../core/errors.ts";
import { checkLibvirtHost } from "../../provision/backends/libvirt-check.ts";
import { checkProxmoxTemplate } from "../../provision/backends/proxmox-template.ts";
import { buildTemplate } from "../../template/build.ts";
import { defaultGuestBinary, defaultTemplatePath } from "../../template/command.ts";
import { readManifest } from "../../template/manifest.ts";
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
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${ctx.fileName}: ${key}: no network interface named ${bridge} on this host`,
    );
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
        const problems = await checkProxmoxTemplate(ctx.agent, {
          templateVmid: backend.proxmox.template_vmid,
          bridge: backend.proxmox.bridge,
        });
        if (problems.length > 0)
          throw new BlockhostError("E_CONFIG_INVALID", `${ctx.fileName}: backend.proxmox: ${problems.join("; ")}`);
        return {
          backend: "proxmox",
          bridge: backend.proxmox.bridge,
          storage: backend.proxmox.storage,
          template_vmid: backend.proxmox.template_vmid,
        };
      },
      ensureTemplate: notWired("Proxmox"),
    };
  }
  return {
    check: async (ctx) => {
      requireBridge(ctx, "backend.libvirt.bridge", backend.libvirt.bridge);
      const template = backend.libvirt.template ?? defaultTemplatePath();
      const r = await checkLibvirtHost(ctx.agent, {
        bridge: backend.libvirt.bridge,
        network: backend.libvirt.network,
        template,
      });
      // A missing template is the `template` step's job (it builds one); every other problem stops here.
      const lines = r.lines.filter((l) => !l.startsWith(`problem: no template at ${template}`));
      const problems = lines.filter((l) => l.startsWith("problem: ")).map((l) => l.slice("problem: ".length));
      if (problems.length > 0)
        throw new BlockhostError("E_CONFIG_INVALID", `${ctx.fileName}: backend.libvirt: ${problems.join("; ")}`);
      return {
        backend: "libvirt",
        bridge: backend.libvirt.bridge,
        network: backend.libvirt.network ?? null,
        accel: r.accel,
        findings: lines,
      };
    },
    ensureTemplate: async () => {
      const template = backend.libvirt.template ?? defaultTemplatePath();
      if (existsSync(template)) {
        const m = readManifest(template); // throws naming what is wrong with it
        return { template, built: false, image: m.image, built_at: m.built_at };
      }
      const r = await buildTemplate({ output: template, binary: defaultGuestBinary() });
      return { template, built: true, image: r.image, seconds: r.seconds };
    },
  };
}
