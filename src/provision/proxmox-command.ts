/** `blockhost proxmox template import|check`: make the Proxmox template from a built image, and check it. */
import { defineCommand } from "citty";
import { printJson } from "../core/output.ts";
import { AgentClient } from "../agent/client.ts";
import { loadBlockhostConfig } from "../core/config/index.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { checkProxmoxTemplate, importProxmoxTemplate } from "./backends/proxmox-template.ts";
import { intOption } from "./cli-args.ts";
import { stderrSay } from "./context.ts";

/** blockhost.yaml's proxmox section (bridge, storage, template VMID), or a config error naming the key. */
function proxmoxSettings() {
  const px = loadBlockhostConfig().proxmox;
  if (!px)
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${paths.blockhostConfig}: proxmox: expected the proxmox section (node, storage, bridge)`,
    );
  return { bridge: px.bridge, storage: px.storage, templateVmid: px.template_vmid ?? 9001 };
}

const vmidArg = {
  vmid: {
    type: "string",
    description: "template VMID (default: blockhost.yaml proxmox.template_vmid, 9001)",
    valueHint: "N",
  },
} as const;

const importCommand = defineCommand({
  meta: {
    name: "import",
    description:
      "Import an image from 'blockhost template build' as the Proxmox template (qm importdisk + qm template)",
  },
  args: {
    image: { type: "positional", description: "the image; its manifest is IMAGE.json", required: true },
    ...vmidArg,
  },
  async run({ args }) {
    const px = proxmoxSettings();
    const vmid = intOption(args.vmid, "vmid", 100, 999_999, px.templateVmid);
    await importProxmoxTemplate(
      new AgentClient(),
      { vmid, imagePath: args.image, storage: px.storage, bridge: px.bridge },
      stderrSay,
    );
    process.stdout.write(`template ${vmid} ready\n`);
  },
});

const checkCommand = defineCommand({
  meta: { name: "check", description: "List what the Proxmox template lacks (exit 0 when nothing)" },
  args: {
    ...vmidArg,
    manifest: { type: "string", description: "also check this image manifest (IMAGE.json)", valueHint: "FILE" },
    json: { type: "boolean", description: "print JSON: {template_vmid, ready, problems}" },
  },
  async run({ args }) {
    const px = proxmoxSettings();
    const templateVmid = intOption(args.vmid, "vmid", 100, 999_999, px.templateVmid);
    const problems = await checkProxmoxTemplate(new AgentClient(), {
      templateVmid,
      bridge: px.bridge,
      ...(args.manifest ? { manifestPath: args.manifest } : {}),
    });
    if (args.json) printJson({ template_vmid: templateVmid, ready: problems.length === 0, problems });
    else for (const p of problems) process.stdout.write(`${p}\n`);
    if (problems.length)
      throw new BlockhostError(
        "E_STATE",
        `template VMID ${templateVmid} is not ready (${problems.length} problem${problems.length > 1 ? "s" : ""})`,
      );
    if (!args.json) process.stdout.write(`template ${templateVmid} ready\n`);
  },
});

export default defineCommand({
  meta: {
    name: "proxmox",
    description: "The Proxmox VM template: import it from a built image, check its prerequisites",
  },
  subCommands: {
    template: defineCommand({
      meta: { name: "template", description: "Import or check the Proxmox template" },
      subCommands: { import: importCommand, check: checkCommand },
    }),
  },
});
