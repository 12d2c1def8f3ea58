/** The `backend` and `template` steps on Proxmox: bridge, storage and template checks; the template import. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseStorageConfig } from "../../agent/pve-storage.ts";
import { BlockhostError, hasCode } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { checkProxmoxTemplate, importProxmoxTemplate } from "../../provision/backends/proxmox-template.ts";
import type { BackendChoice } from "../schema.ts";
import { type HypervisorContext, type HypervisorSetup, requireBridge } from "./hypervisor-common.ts";

type ProxmoxChoice = Extract<BackendChoice, { proxmox: unknown }>["proxmox"];

/** Where the template step looks for the image to import when the setup file names none. */
export const defaultProxmoxImage = () => join(paths.imagesDir, "blockhost-template.qcow2");

/** What `qm config` says about the template VMID: absent, a half-made import of ours, or a VM to check. */
type TemplateState = { kind: "absent" } | { kind: "ours-unfinished" } | { kind: "present" };

/** The description line `importProxmoxTemplate` writes first (at `qm create`), before the VM is a template. */
const OUR_MARKER = /^blockhost-template manifest=1 /;

async function templateState(ctx: HypervisorContext, vmid: number): Promise<TemplateState> {
  let config: Record<string, string>;
  try {
    config = (await ctx.agent.call("qm-config", { vmid })).config;
  } catch (e) {
    if (hasCode(e, "E_NOT_FOUND")) return { kind: "absent" };
    throw e;
  }
  if (config.template !== "1" && OUR_MARKER.test((config.description ?? "").trim())) return { kind: "ours-unfinished" };
  return { kind: "present" };
}

/**
 * The storage must be defined in /etc/pve/storage.cfg and hold VM images. Without a readable
 * storage.cfg (pmxcfs not mounted, or not readable by this user) the check is reported as skipped.
 */
function storageFinding(ctx: HypervisorContext, storage: string): string {
  const file = paths.pveStorageConfig;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return `storage ${storage}: not checked (${file} is not readable here)`;
  }
  const section = parseStorageConfig(text).find((s) => s.id === storage);
  const fail = (why: string) => {
    throw new BlockhostError("E_CONFIG_INVALID", `${ctx.fileName}: backend.proxmox.storage: ${why}`);
  };
  if (!section) return fail(`storage '${storage}' is not defined in ${file}`);
  const content = section.props.content?.split(",").map((c) => c.trim());
  if (content && !content.includes("images"))
    fail(`storage '${storage}' does not hold VM disks (content is ${section.props.content}, needs images)`);
  if (section.props.disable !== undefined && section.props.disable !== "0")
    fail(`storage '${storage}' is disabled in ${file}`);
  return `storage ${storage}: ${section.type}, holds VM disks`;
}

export function proxmoxSetup(px: ProxmoxChoice): HypervisorSetup {
  const vmid = px.template_vmid;
  const image = () => px.template_image ?? defaultProxmoxImage();
  return {
    check: async (ctx) => {
      requireBridge(ctx, "backend.proxmox.bridge", px.bridge);
      const storage = storageFinding(ctx, px.storage);
      const state = await templateState(ctx, vmid);
      // A missing template (or our own unfinished import) is the `template` step's job.
      if (state.kind !== "present") {
        return { backend: "proxmox", bridge: px.bridge, storage, template_vmid: vmid, template: "to import" };
      }
      const problems = await checkProxmoxTemplate(ctx.agent, { templateVmid: vmid, bridge: px.bridge });
      if (problems.length > 0)
        throw new BlockhostError("E_CONFIG_INVALID", `${ctx.fileName}: backend.proxmox: ${problems.join("; ")}`);
      return { backend: "proxmox", bridge: px.bridge, storage, template_vmid: vmid, template: "ready" };
    },
    ensureTemplate: async (ctx) => {
      const say = ctx.say ?? (() => {});
      const state = await templateState(ctx, vmid);
      if (state.kind === "present") {
        const problems = await checkProxmoxTemplate(ctx.agent, { templateVmid: vmid, bridge: px.bridge });
        if (problems.length > 0)
          throw new BlockhostError(
            "E_CONFIG_INVALID",
            `${ctx.fileName}: backend.proxmox.template_vmid: VMID ${vmid} is in use and is not a usable template ` +
              `(${problems.join("; ")}); choose a free VMID or fix it`,
          );
        return { template_vmid: vmid, imported: false };
      }
      const path = image();
      if (!existsSync(path) || !existsSync(`${path}.json`))
        throw new BlockhostError(
          "E_STATE",
          `${ctx.fileName}: backend.proxmox.template_image: no image at ${path} (with its manifest ${path}.json); ` +
            `build one there (blockhost template build --boot bootloader --output ${path}), then retry step template`,
        );
      if (state.kind === "ours-unfinished") {
        say(`VMID ${vmid} is an interrupted template import; removing it`);
        await ctx.agent.call("qm-destroy", { vmid });
      }
      await importProxmoxTemplate(ctx.agent, { vmid, imagePath: path, storage: px.storage, bridge: px.bridge }, say);
      return { template_vmid: vmid, imported: true, image: path };
    },
  };
}
