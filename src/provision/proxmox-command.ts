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
  return { bridge: px.bridge, storage: px.storage, templateVmid: px.template_vmid ?? 9001, node: px.node, px };
}

/**
 * For `--node`: where that node's template goes (its storage and bridge in proxmox.cluster.nodes,
 * else the defaults) and its VMID (`--vmid`, else the node's template_vmid).
 */
function nodeTarget(node: string, vmidFlag: string | undefined) {
  const s = proxmoxSettings();
  if (!/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/.test(node))
    throw new BlockhostError("E_USAGE", `--node: expected a Proxmox node name, got ${JSON.stringify(node)}`);
  if (!s.px.cluster)
    throw new BlockhostError("E_USAGE", `--node ${node}: ${paths.blockhostConfig} has no proxmox.cluster section`);
  const own = s.px.cluster.nodes[node] ?? {};
  const fallback = own.template_vmid;
  if (vmidFlag === undefined && fallback === undefined)
    throw new BlockhostError(
      "E_USAGE",
      `--node ${node}: give --vmid, or set proxmox.cluster.nodes.${node}.template_vmid in ${paths.blockhostConfig}`,
    );
  return {
    vmid: intOption(vmidFlag, "vmid", 100, 999_999, fallback ?? 0),
    storage: own.storage ?? s.storage,
    bridge: own.bridge ?? s.bridge,
  };
}

const vmidArg = {
  vmid: {
    type: "string",
    description: "VMID of the template (default: proxmox.template_vmid in blockhost.yaml, 9001)",
    valueHint: "VMID",
  },
} as const;

const importCommand = defineCommand({
  meta: {
    name: "import",
    description: "Make an image built by `blockhost template build` the Proxmox template new VMs are cloned from",
    examples: [
      "blockhost proxmox template import /var/lib/libvirt/blockhost/templates/blockhost-template.qcow2",
      "blockhost proxmox template import IMAGE --node pve2 --vmid 9002",
    ],
  },
  args: {
    image: {
      type: "positional",
      description: "The image file (its manifest, IMAGE.json, must sit next to it)",
      required: true,
      valueHint: "IMAGE",
    },
    ...vmidArg,
    node: {
      type: "string",
      description:
        "Cluster: put the template on this node (imported here, then migrated with its disk to the node's storage)",
      valueHint: "NODE",
    },
  },
  async run({ args }) {
    const px = proxmoxSettings();
    if (args.node && args.node !== px.node) {
      const t = nodeTarget(args.node, args.vmid);
      await importProxmoxTemplate(
        new AgentClient(),
        {
          vmid: t.vmid,
          imagePath: args.image,
          storage: px.storage,
          bridge: t.bridge,
          onNode: args.node,
          nodeStorage: t.storage,
        },
        stderrSay,
      );
      process.stdout.write(`template ${t.vmid} ready on ${args.node}\n`);
      return;
    }
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
  meta: {
    name: "check",
    description: "List what the Proxmox template lacks to serve as BlockHost's template (exit 0 when nothing)",
    examples: ["blockhost proxmox template check", "blockhost proxmox template check --vmid 9001 --manifest img.json"],
  },
  args: {
    ...vmidArg,
    manifest: {
      type: "string",
      description: "Also compare with this image's manifest (IMAGE.json)",
      valueHint: "FILE",
    },
    json: { type: "boolean", description: "Print JSON: the template VMID, ready or not, and what it lacks" },
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
    description: "Proxmox hosts: import the VM template from a built image and check it",
    examples: ["blockhost proxmox template check"],
  },
  subCommands: {
    template: defineCommand({
      meta: {
        name: "template",
        description: "Import or check the Proxmox VM template",
        examples: ["blockhost proxmox template check"],
      },
      subCommands: { import: importCommand, check: checkCommand },
    }),
  },
});
