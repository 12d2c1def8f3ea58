/** The Proxmox template: importing the built image (`qm importdisk` + `qm template`) and checking its prerequisites. */
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { nonBaseDisks } from "../../core/pve-disks.ts";
import {
  bootloaderProblem,
  manifestPath,
  readManifestFile,
  type TemplateManifest,
} from "../../core/template/manifest.ts";
import { sha256File } from "../../template/tools.ts";
import { VM_AUTH_FILES, VM_BINARY_PATH } from "../../vmauth/files/index.ts";
import type { AgentCaller } from "./types.ts";
import type { Say } from "./types.ts";

/** The line `importProxmoxTemplate` puts in the template's description, so a later check knows what is inside. */
const MARKER_RE = /^blockhost-template manifest=1 binary=(\S+) vmauth=(\S+)(?: sha256=([0-9a-f]{1,64}))?$/;

/** What BlockHost needs inside the image ([] = all there): the guest binary, the vmauth files, the seed and the guest agent. */
function contentsProblems(m: TemplateManifest): string[] {
  const problems: string[] = [];
  if (m.blockhost_binary !== VM_BINARY_PATH)
    problems.push(
      `blockhost_binary is ${JSON.stringify(m.blockhost_binary)}, expected "${VM_BINARY_PATH}" (the PAM stack and the signing page run it)`,
    );
  const missing = VM_AUTH_FILES.map((f) => f.path).filter((p) => !m.vmauth_files.includes(p));
  if (missing.length) problems.push(`vmauth_files lacks ${missing.join(", ")}`);
  if (!m.cloud_init) problems.push("cloud_init is not true (the VM is configured from its NoCloud seed)");
  if (!m.qemu_guest_agent) problems.push("qemu_guest_agent is not true (create waits for the guest agent)");
  return problems;
}

/** Every reason a built image cannot become the Proxmox template ([] = usable). */
export function proxmoxManifestProblems(m: TemplateManifest): string[] {
  const boot = bootloaderProblem(m);
  return [...contentsProblems(m), ...(boot ? [boot] : [])];
}

/** The manifest by its path, read by the template format's one reader, and usable on Proxmox. */
function readProxmoxManifest(file: string): TemplateManifest {
  const m = readManifestFile(file);
  const problems = proxmoxManifestProblems(m);
  if (problems.length) throw new BlockhostError("E_CONFIG_INVALID", `${file}: ${problems.join("; ")}`);
  return m;
}

/** The description line recording what the image holds (the check reads it back). */
export function markerOf(m: Pick<TemplateManifest, "blockhost_binary"> & { sha256?: string }): string {
  const sha = m.sha256 && /^[0-9a-f]{64}$/.test(m.sha256) ? ` sha256=${m.sha256}` : "";
  return `blockhost-template manifest=1 binary=${m.blockhost_binary} vmauth=${VM_AUTH_FILES.map((f) => f.path).join(";")}${sha}`;
}

const CLOUDINIT_DRIVE_RE = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30))$/;

/**
 * Every reason a VM config (from `qm config`) cannot serve as BlockHost's template ([] = usable).
 * `bridge`, when given, is the bridge the backend routes VMs on; `contents: false` skips the record
 * of what the image holds (the per-create check only needs what Proxmox itself needs).
 */
export function templateProblems(
  vmid: number,
  config: Record<string, string>,
  opts: { bridge?: string; contents?: boolean } = {},
): string[] {
  const { bridge, contents = true } = opts;
  const problems: string[] = [];
  if (config.template !== "1") problems.push(`VMID ${vmid} is not a template (qm template ${vmid})`);
  if (!/(^|,)size=/.test(config.scsi0 ?? "")) problems.push(`no scsi0 disk (the VM's disk is scsi0, resized per plan)`);
  // A failed conversion, or a storage without base volumes (thick LVM), leaves `template: 1` on a vm- disk.
  for (const disk of config.template === "1" ? nonBaseDisks(config) : [])
    problems.push(
      `${disk}, not a base volume (the conversion failed, or its storage cannot make one: put the template on lvmthin, zfspool, rbd or a directory storage)`,
    );
  const cloudinit = Object.entries(config).some(
    ([k, v]) => CLOUDINIT_DRIVE_RE.test(k) && /^[^,:]+:(\d+\/)?((vm|base)-\d+-)?cloudinit(,|$|\.)/.test(v),
  );
  if (!cloudinit)
    problems.push(
      `no cloud-init drive (Proxmox generates nothing without one: qm set ${vmid} --ide2 STORAGE:cloudinit)`,
    );
  const net0 = config.net0;
  if (!net0)
    problems.push(
      `no net0 (no network config is generated and no tap${vmid}i0 exists without it: qm set ${vmid} --net0 virtio,bridge=vmbr0)`,
    );
  else if (bridge && !new RegExp(`(^|,)bridge=${bridge.replace(/[.]/g, "\\.")}(,|$)`).test(net0))
    problems.push(`net0 is not on bridge ${bridge} (${net0})`);
  if (!contents) return problems;
  const marker = MARKER_RE.exec((config.description ?? "").trim());
  if (!marker) {
    problems.push(
      `no record of what is inside (not imported by blockhost's template import): cannot confirm ${VM_BINARY_PATH} and the vmauth files are in the image`,
    );
  } else {
    if (marker[1] !== VM_BINARY_PATH)
      problems.push(`the image's blockhost binary is ${marker[1]}, expected ${VM_BINARY_PATH}`);
    const inside = marker[2]!.split(";");
    const missing = VM_AUTH_FILES.map((f) => f.path).filter((p) => !inside.includes(p));
    if (missing.length) problems.push(`the image lacks vmauth files ${missing.join(", ")}`);
  }
  return problems;
}

export interface TemplateCheck {
  templateVmid: number;
  /** The bridge VMs are routed on (blockhost.yaml proxmox.bridge). */
  bridge?: string;
  /** Also check the manifest of the image the template came from. */
  manifestPath?: string;
  /** The cluster node that holds the template (absent: this node, through qm). */
  node?: string;
}

/**
 * The prerequisite check finalize's `backend` step and `blockhost doctor` call: every problem of
 * the Proxmox template, each one line naming what is missing ([] = ready).
 */
export async function checkProxmoxTemplate(agent: AgentCaller, check: TemplateCheck): Promise<string[]> {
  const problems: string[] = [];
  if (check.manifestPath) {
    try {
      readProxmoxManifest(check.manifestPath);
    } catch (e) {
      problems.push(oneLine(e));
    }
  }
  let config: Record<string, string>;
  try {
    config = (await agent.call("qm-config", { vmid: check.templateVmid, ...(check.node ? { node: check.node } : {}) }))
      .config;
  } catch (e) {
    return [...problems, `template VMID ${check.templateVmid}: ${oneLine(e)}`];
  }
  return [
    ...problems,
    ...templateProblems(check.templateVmid, config, { bridge: check.bridge }).map(
      (p) => `template VMID ${check.templateVmid}: ${p}`,
    ),
  ];
}

export interface TemplateImport {
  vmid: number;
  /** The image `blockhost template build` made; its manifest is `<image>.json`. */
  imagePath: string;
  /** Where the disk and the cloud-init drive go (blockhost.yaml proxmox.storage). */
  storage: string;
  bridge: string;
  name?: string;
  /** Cluster: the node the template is for (another node): imported here, then migrated there. */
  onNode?: string;
  /** That node's storage for the template's disk (`--targetstorage` of the migration). */
  nodeStorage?: string;
}

/**
 * Make the Proxmox template from a built image: `qm create` (net0, serial console, guest agent),
 * `qm importdisk`, attach it as scsi0 with a cloud-init drive on ide2, `qm template`; then the
 * prerequisite check must come back clean. A failure removes the half-made VM.
 */
export async function importProxmoxTemplate(agent: AgentCaller, t: TemplateImport, say: Say): Promise<void> {
  const manifest = readProxmoxManifest(manifestPath(t.imagePath));
  const actual = await sha256File(t.imagePath);
  if (actual !== manifest.sha256)
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${t.imagePath}: sha256 ${actual} does not match its manifest (${manifest.sha256})`,
    );
  say(`creating VMID ${t.vmid} for the template`);
  await agent.call("qm-create", {
    vmid: t.vmid,
    name: t.name ?? "blockhost-template",
    args: {
      memory: 1024,
      cores: 1,
      ostype: "l26",
      scsihw: "virtio-scsi-pci",
      net0: `virtio,bridge=${t.bridge}`,
      serial0: "socket",
      vga: "serial0",
      agent: "1",
      description: markerOf(manifest),
    },
  });
  try {
    say(`importing ${t.imagePath} to ${t.storage}`);
    await agent.call("qm-importdisk", { vmid: t.vmid, disk_path: t.imagePath, storage: t.storage });
    const { config } = await agent.call("qm-config", { vmid: t.vmid });
    const imported = Object.keys(config)
      .filter((k) => /^unused\d+$/.test(k))
      .map((k) => config[k]!);
    if (imported.length !== 1)
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `qm importdisk left ${imported.length} unused disks on VMID ${t.vmid}, expected 1`,
      );
    await agent.call("qm-set", {
      vmid: t.vmid,
      options: { scsi0: imported[0]!, ide2: `${t.storage}:cloudinit`, boot: "order=scsi0" },
    });
    say(`converting VMID ${t.vmid} to a template`);
    await agent.call("qm-template", { vmid: t.vmid });
    let problems = await checkProxmoxTemplate(agent, { templateVmid: t.vmid, bridge: t.bridge });
    if (problems.length) throw new BlockhostError("E_STATE", problems.join("; "));
    if (t.onNode) {
      say(`migrating template ${t.vmid} to ${t.onNode}${t.nodeStorage ? ` (disk to ${t.nodeStorage})` : ""}`);
      await migrateTemplate(agent, t as TemplateImport & { onNode: string });
      problems = await checkProxmoxTemplate(agent, { templateVmid: t.vmid, bridge: t.bridge, node: t.onNode });
      if (problems.length) throw new BlockhostError("E_STATE", problems.join("; "));
    }
  } catch (e) {
    say(`template import failed (${oneLine(e)}); removing VMID ${t.vmid}`);
    await removeHalfMade(agent, t.vmid).catch((u) => say(`qm-destroy ${t.vmid} failed: ${oneLine(u)}`));
    throw e;
  }
}

/** Offline migration to the node; a failure leaves the template here, where the cleanup finds it. */
async function migrateTemplate(agent: AgentCaller, t: TemplateImport & { onNode: string }): Promise<void> {
  const here = (await agent.call("pve-cluster-resources", {})).vms.find((v) => v.vmid === t.vmid)?.node;
  if (!here) throw new BlockhostError("E_STATE", `template VMID ${t.vmid} is not in the cluster's resources`);
  await agent.call("qm-migrate", {
    vmid: t.vmid,
    node: here,
    target: t.onNode,
    ...(t.nodeStorage ? { targetstorage: t.nodeStorage } : {}),
  });
}

/** Destroy the half-made template on whichever node holds it now. */
async function removeHalfMade(agent: AgentCaller, vmid: number): Promise<void> {
  const view = await agent.call("pve-cluster-resources", {}).catch(() => null);
  const node = view?.vms.find((v) => v.vmid === vmid)?.node;
  await agent.call("qm-destroy", { vmid, ...(node ? { node } : {}) });
}
