/** Agent actions: Proxmox `qm` VM lifecycle, configuration and guest agent calls. */
import { BlockhostError } from "../../core/errors.ts";
import { nonBaseDisks } from "../../core/pve-disks.ts";
import { array, bool, int, literal, object, optional, refine, str } from "../../core/schema.ts";
import { dnsVmName, pveNode, storageId, vmid } from "../../core/validators.ts";
import { checkDiskImage } from "../image-check.ts";
import { vmApi } from "../pve-api.ts";
import { snippetStorageType } from "../pve-storage.ts";
import { commandFailedWith, problemLine, unlessCommandSays } from "../run.ts";
import { withStagedCopy } from "../staging.ts";
import { confinedFile, imageBases, printableArg } from "./params.ts";
import { diskBytes, formatSize, sizeBytes } from "./qm-config.ts";
import { QM_OPTION_CHECKS, optionArgs, qmOptions } from "./qm-options.ts";
import { defineAction } from "./types.ts";

/**
 * Proxmox VM actions. Without `node` each runs `qm` on this node; with `node` (a cluster member)
 * the same operation goes through the cluster API on that node (pve-api.ts): `qm` cannot reach
 * a VM whose config lives on another node.
 */

/** The node that holds the VM (absent: this node, through `qm`). */
const node = optional(pveNode);
const byVmid = object({ vmid, node });
/** The option names qm-create/qm-set accept. */
const QM_OPTIONS = Object.keys(QM_OPTION_CHECKS);
const output = (stdout: string) => ({ output: stdout.trim() });
const unique = (keys: string[]) => [...new Set(keys)];
/** qemu-server's `name` is a dns-name (PVE rejects `web_1`, `web-`, `a..b`); 64 characters fit. */
const qmName = dnsVmName;

function lifecycle<const N extends string>(name: N, kind: "start" | "stop" | "shutdown" | "reboot", timeoutMs: number) {
  return defineAction({
    name,
    params: byVmid,
    timeoutMs,
    handler: async (p, ctx) => output((await vmApi(ctx, p.node).task(kind, p.vmid)).stdout),
  });
}

export const qmStart = lifecycle("qm-start", "start", 120_000);
export const qmStop = lifecycle("qm-stop", "stop", 120_000);
/** ACPI shutdown; qm waits up to 300 s for the guest. */
export const qmShutdown = lifecycle("qm-shutdown", "shutdown", 330_000);
/** ACPI shutdown, then start again (qm waits up to 300 s for the shutdown); a VM that is not running is an error. */
export const qmReboot = lifecycle("qm-reboot", "reboot", 330_000);

/** qm's answer for a VMID it has no configuration for. */
const VM_MISSING = /does not exist/;

/** `qm destroy --purge`; a VM that is already gone is `{destroyed: false}`, not an error. */
export const qmDestroy = defineAction({
  name: "qm-destroy",
  params: byVmid,
  timeoutMs: 300_000,
  handler: async (p, ctx) => {
    return unlessCommandSays(VM_MISSING, { output: "", destroyed: false }, async () => {
      const { stdout } = await vmApi(ctx, p.node).task("destroy", p.vmid);
      return { ...output(stdout), destroyed: true };
    });
  },
});

/**
 * `qm template VMID`, then the config must show `template: 1` AND every non-CD disk on a base
 * volume: the task writes `template: 1` before converting the disks, and exits 0 when that fails
 * (no upid exit for `template`), the reason only on stderr; on storage without the template
 * feature (thick LVM) PVE skips the disk silently, leaving a template no linked clone can use.
 */
export const qmTemplate = defineAction({
  name: "qm-template",
  params: byVmid,
  timeoutMs: 300_000,
  handler: async (p, ctx) => {
    const api = vmApi(ctx, p.node);
    const { stdout, stderr, failed } = await api.task("template", p.vmid);
    const config = await api.config(p.vmid);
    const reason = failed || problemLine(stderr);
    if (config.template !== "1") {
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `qm template ${p.vmid} did not make a template: ${reason || "qm gave no reason"}`,
        { binary: api.tool },
      );
    }
    const unconverted = nonBaseDisks(config);
    if (unconverted.length) {
      const storage = unconverted[0]!.replace(/^.*\(([^:]+):.*$/, "$1");
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `qm template ${p.vmid} left ${unconverted.join(", ")}, not a base volume: ${reason || `storage '${storage}'${snippetStorageType(storage)} cannot hold a template's base volume (use lvmthin, zfspool, rbd or a directory storage)`}`,
        { binary: api.tool },
      );
    }
    return output(stdout);
  },
});

/**
 * Offline migration of a stopped VM or a template to another cluster node, its local disks copied
 * to `targetstorage` there (how a template reaches a node whose storage is local). The config is
 * read back on the target: a template must arrive with every disk still a base volume.
 */
export const qmMigrate = defineAction({
  name: "qm-migrate",
  params: refine(
    object({ vmid, node, target: pveNode, targetstorage: optional(storageId) }),
    "target must differ from node",
    (p) => p.target !== p.node,
  ),
  timeoutMs: 3_600_000,
  handler: async (p, ctx) => {
    const r = await vmApi(ctx, p.node).migrate(p.vmid, p.target, p.targetstorage);
    const config = await vmApi(ctx, p.target).config(p.vmid);
    const unconverted = config.template === "1" ? nonBaseDisks(config) : [];
    if (unconverted.length)
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `VM ${p.vmid} reached ${p.target} with ${unconverted.join(", ")}, not a base volume: the template cannot serve clones there`,
      );
    return output(r.stdout);
  },
});

/** `{config: {key: value}}` from `qm config VMID` (read-only; how callers verify a step). */
export const qmConfig = defineAction({
  name: "qm-config",
  params: byVmid,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    try {
      return { config: await vmApi(ctx, p.node).config(p.vmid) };
    } catch (e) {
      // qm says "does not exist" only in words: callers (setup's template step) decide on the code.
      if (commandFailedWith(e, VM_MISSING)) throw new BlockhostError("E_NOT_FOUND", e.message, e.details, { cause: e });
      throw e;
    }
  },
});

export const qmCreate = defineAction({
  name: "qm-create",
  params: object({
    vmid,
    name: qmName,
    args: refine(qmOptions, "qm options without name (it is its own parameter)", (o) => !Object.hasOwn(o, "name")),
  }),
  timeoutMs: 300_000,
  handler: async (p, ctx) =>
    output((await ctx.run("qm", ["create", String(p.vmid), "--name", p.name, ...optionArgs(p.args)])).stdout),
});

/** `qm set VMID --KEY VALUE … [--delete K1,K2]`; at least one option or one key to delete. */
export const qmSet = defineAction({
  name: "qm-set",
  params: refine(
    object({ vmid, node, options: qmOptions, delete: optional(array(literal(...QM_OPTIONS), 1, 32)) }),
    "at least one option to set or one key to delete, not both for the same key",
    (p) =>
      Object.keys(p.options).length + (p.delete?.length ?? 0) > 0 &&
      !(p.delete ?? []).some((k) => Object.hasOwn(p.options, k)),
  ),
  timeoutMs: 120_000,
  handler: async (p, ctx) => {
    const argv = optionArgs(p.options);
    const { delete: dropKeys } = p;
    if (dropKeys) argv.push("--delete", unique(dropKeys).join(","));
    return output((await vmApi(ctx, p.node).set(p.vmid, argv)).stdout);
  },
});

/**
 * `qm importdisk` of the caller's own image, from the agent's private copy (staging.ts) once it
 * is known to be a self-contained qcow2 or raw image (image-check.ts): qm probes the format
 * itself, so the copy must be one whose probe cannot lead to another file.
 */
export const qmImportdisk = defineAction({
  name: "qm-importdisk",
  params: object({ vmid, disk_path: confinedFile(imageBases), storage: storageId }),
  timeoutMs: 1_800_000,
  handler: async (p, ctx) =>
    withStagedCopy(p.disk_path, imageBases(), ctx.peer.uid, async (disk) => {
      const format = await checkDiskImage(ctx, disk);
      return { ...output((await ctx.run("qm", ["importdisk", String(p.vmid), disk, p.storage])).stdout), format };
    }),
});

/**
 * A clone of `vmid` on `node` (default: this node). `target`: the node the clone's config goes to
 * (PVE allows it only when the source's disks are on shared storage); `full` + `storage`: a full
 * copy onto that storage, where a linked clone is impossible (another storage, thick LVM).
 */
export const qmClone = defineAction({
  name: "qm-clone",
  params: refine(
    object({
      vmid,
      newid: vmid,
      name: qmName,
      full: optional(bool),
      storage: optional(storageId),
      node,
      target: optional(pveNode),
    }),
    "storage only together with full: true, newid different from vmid, target only together with node",
    (p) =>
      (p.storage === undefined || p.full === true) &&
      p.newid !== p.vmid &&
      (p.target === undefined || p.node !== undefined),
  ),
  timeoutMs: 1_800_000,
  handler: async (p, ctx) => {
    const argv = ["--name", p.name];
    if (p.full) argv.push("--full", "1");
    if (p.storage) argv.push("--storage", p.storage);
    if (p.target && p.target !== p.node) argv.push("--target", p.target);
    return output((await vmApi(ctx, p.node).clone(p.vmid, p.newid, argv)).stdout);
  },
});

export const qmResize = defineAction({
  name: "qm-resize",
  params: object({
    vmid,
    node,
    disk: str(
      /^(scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|ide[0-3])$/,
      "a disk like scsi0, virtio0, sata0, ide0",
      8,
    ),
    size: str(/^\+?(?=[0-9.]*[1-9])[0-9]{1,7}(\.[0-9]{1,3})?[KMGT]?$/, "a size like 20G, +10G or +10.5G", 13),
  }),
  timeoutMs: 300_000,
  /**
   * qm runs the resize as a task and exits 0 when it fails ("shrinking disks is not supported",
   * a missing disk, a full storage), the reason only on stderr: the size is read back with
   * `qm config` and anything short of the request fails with that reason.
   */
  handler: async (p, ctx) => {
    const relative = p.size.startsWith("+");
    const api = vmApi(ctx, p.node);
    const before = diskBytes(await api.config(p.vmid), p.disk);
    const { stdout, stderr: qmStderr, failed } = await api.resize(p.vmid, p.disk, p.size);
    const stderr = failed ?? qmStderr;
    const after = diskBytes(await api.config(p.vmid), p.disk);
    const wanted = (relative ? (before ?? 0) : 0) + sizeBytes(p.size.replace(/^\+/, ""));
    // Unchanged, not the size asked for, and qm said why (e.g. a refused shrink): a failure even though the disk is big enough.
    const refused = after === before && after !== wanted && problemLine(stderr) !== "";
    if (before === null || after === null || after < wanted || refused) {
      const now = after === null ? "has no size" : `is ${formatSize(after)}`;
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `qm resize ${p.vmid} ${p.disk} ${p.size} did not take effect (${p.disk} ${now}): ${problemLine(stderr) || "qm gave no reason"}`,
        { binary: api.tool },
      );
    }
    return { ...output(stdout), size: formatSize(after) };
  },
});

/** `{status: "running"|"stopped"|…}`; a VM that does not exist is `{status: "missing"}`, not an error. */
export const qmStatus = defineAction({
  name: "qm-status",
  params: byVmid,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    return unlessCommandSays(VM_MISSING, { status: "missing" }, async () => ({
      status: await vmApi(ctx, p.node).status(p.vmid),
    }));
  },
});

/** `{responding: true}` when the QEMU guest agent answers, else `{responding: false, reason}`. */
export const qmGuestPing = defineAction({
  name: "qm-guest-ping",
  params: byVmid,
  timeoutMs: 15_000,
  handler: async (p, ctx) => {
    try {
      await vmApi(ctx, p.node).guestPing(p.vmid);
      return { responding: true };
    } catch (e) {
      if (e instanceof BlockhostError && e.code === "E_COMMAND_FAILED") return { responding: false, reason: e.message };
      throw e;
    }
  },
});

/** Run an argv (no shell) inside the guest through the guest agent; result parsed from qm's JSON. */
export const qmGuestExec = defineAction({
  name: "qm-guest-exec",
  params: object({ vmid, node, command: array(printableArg, 1, 64), timeout: optional(int(1, 600)) }),
  timeoutMs: 660_000,
  handler: async (p, ctx) => guestExecResult(await vmApi(ctx, p.node).guestExec(p.vmid, p.command, p.timeout ?? 60)),
});

/** qm prints, and the API's exec-status returns, `{"exitcode":N,"exited":1,"out-data":"…","err-data":"…"}` (exitcode absent while running). */
export function parseGuestExec(stdout: string): ReturnType<typeof guestExecResult> {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new BlockhostError("E_COMMAND_FAILED", "qm guest exec: output is not JSON");
  }
  if (typeof data !== "object" || data === null)
    throw new BlockhostError("E_COMMAND_FAILED", "qm guest exec: output is not an object");
  return guestExecResult(data as Record<string, unknown>);
}

function guestExecResult(d: Record<string, unknown>): {
  exited: boolean;
  exitcode: number | null;
  stdout: string;
  stderr: string;
} {
  return {
    exited: d.exited === 1 || d.exited === true,
    exitcode: typeof d.exitcode === "number" ? d.exitcode : null,
    stdout: typeof d["out-data"] === "string" ? d["out-data"] : "",
    stderr: typeof d["err-data"] === "string" ? d["err-data"] : "",
  };
}
