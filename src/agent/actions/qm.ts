/** Agent actions: Proxmox `qm` VM lifecycle, configuration and guest agent calls. */
import { BlockhostError } from "../../core/errors.ts";
import { array, bool, int, literal, object, optional, refine, str } from "../../core/schema.ts";
import { dnsVmName, storageId, vmid } from "../../core/validators.ts";
import { checkDiskImage } from "../image-check.ts";
import { problemLine, unlessCommandSays } from "../run.ts";
import { withStagedCopy } from "../staging.ts";
import { confinedFile, imageBases, printableArg } from "./params.ts";
import { diskBytes, formatSize, readQmConfig, sizeBytes } from "./qm-config.ts";
import { QM_OPTION_CHECKS, optionArgs, qmOptions } from "./qm-options.ts";
import { defineAction } from "./types.ts";

/** Proxmox `qm` actions. Every one runs `qm` from the binary table with a validated argv. */

const byVmid = object({ vmid });
/** The option names qm-create/qm-set accept. */
const QM_OPTIONS = Object.keys(QM_OPTION_CHECKS);
const output = (stdout: string) => ({ output: stdout.trim() });
const unique = (keys: string[]) => [...new Set(keys)];
/** qemu-server's `name` is a dns-name (PVE rejects `web_1`, `web-`, `a..b`); 64 characters fit. */
const qmName = dnsVmName;

function lifecycle<const N extends string>(name: N, argv: (vmid: number) => string[], timeoutMs: number) {
  return defineAction({
    name,
    params: byVmid,
    timeoutMs,
    handler: async (p, ctx) => output((await ctx.run("qm", argv(p.vmid))).stdout),
  });
}

export const qmStart = lifecycle("qm-start", (id) => ["start", String(id)], 120_000);
export const qmStop = lifecycle("qm-stop", (id) => ["stop", String(id)], 120_000);
/** ACPI shutdown; qm waits up to 300 s for the guest. */
export const qmShutdown = lifecycle("qm-shutdown", (id) => ["shutdown", String(id), "--timeout", "300"], 330_000);

/** qm's answer for a VMID it has no configuration for. */
const VM_MISSING = /does not exist/;

/** `qm destroy --purge`; a VM that is already gone is `{destroyed: false}`, not an error. */
export const qmDestroy = defineAction({
  name: "qm-destroy",
  params: byVmid,
  timeoutMs: 300_000,
  handler: async (p, ctx) => {
    return unlessCommandSays(VM_MISSING, { output: "", destroyed: false }, async () => {
      const { stdout } = await ctx.run("qm", ["destroy", String(p.vmid), "--purge"]);
      return { ...output(stdout), destroyed: true };
    });
  },
});

/**
 * `qm template VMID`, then `qm config` must show `template: 1`: qm runs the conversion as a task
 * and exits 0 even when it failed (no upid exit for `template`), the reason only on stderr.
 */
export const qmTemplate = defineAction({
  name: "qm-template",
  params: byVmid,
  timeoutMs: 300_000,
  handler: async (p, ctx) => {
    const { stdout, stderr } = await ctx.run("qm", ["template", String(p.vmid)]);
    if ((await readQmConfig(ctx, p.vmid)).template !== "1") {
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `qm template ${p.vmid} did not make a template: ${problemLine(stderr) || "qm gave no reason"}`,
        { binary: "qm" },
      );
    }
    return output(stdout);
  },
});

/** `{config: {key: value}}` from `qm config VMID` (read-only; how callers verify a step). */
export const qmConfig = defineAction({
  name: "qm-config",
  params: byVmid,
  timeoutMs: 30_000,
  handler: async (p, ctx) => ({ config: await readQmConfig(ctx, p.vmid) }),
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
    object({ vmid, options: qmOptions, delete: optional(array(literal(...QM_OPTIONS), 1, 32)) }),
    "at least one option to set or one key to delete, not both for the same key",
    (p) =>
      Object.keys(p.options).length + (p.delete?.length ?? 0) > 0 &&
      !(p.delete ?? []).some((k) => Object.hasOwn(p.options, k)),
  ),
  timeoutMs: 120_000,
  handler: async (p, ctx) => {
    const argv = ["set", String(p.vmid), ...optionArgs(p.options)];
    const { delete: dropKeys } = p;
    if (dropKeys) argv.push("--delete", unique(dropKeys).join(","));
    return output((await ctx.run("qm", argv)).stdout);
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

export const qmClone = defineAction({
  name: "qm-clone",
  params: refine(
    object({ vmid, newid: vmid, name: qmName, full: optional(bool), storage: optional(storageId) }),
    "storage only together with full: true, and newid different from vmid",
    (p) => (p.storage === undefined || p.full === true) && p.newid !== p.vmid,
  ),
  timeoutMs: 1_800_000,
  handler: async (p, ctx) => {
    const argv = ["clone", String(p.vmid), String(p.newid), "--name", p.name];
    if (p.full) argv.push("--full", "1");
    if (p.storage) argv.push("--storage", p.storage);
    return output((await ctx.run("qm", argv)).stdout);
  },
});

export const qmResize = defineAction({
  name: "qm-resize",
  params: object({
    vmid,
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
    const before = diskBytes(await readQmConfig(ctx, p.vmid), p.disk);
    const { stdout, stderr } = await ctx.run("qm", ["resize", String(p.vmid), p.disk, p.size]);
    const after = diskBytes(await readQmConfig(ctx, p.vmid), p.disk);
    const wanted = (relative ? (before ?? 0) : 0) + sizeBytes(p.size.replace(/^\+/, ""));
    // Unchanged, not the size asked for, and qm said why (e.g. a refused shrink): a failure even though the disk is big enough.
    const refused = after === before && after !== wanted && problemLine(stderr) !== "";
    if (before === null || after === null || after < wanted || refused) {
      const now = after === null ? "has no size" : `is ${formatSize(after)}`;
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `qm resize ${p.vmid} ${p.disk} ${p.size} did not take effect (${p.disk} ${now}): ${problemLine(stderr) || "qm gave no reason"}`,
        { binary: "qm" },
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
    return unlessCommandSays(VM_MISSING, { status: "missing" }, async () => {
      const { stdout } = await ctx.run("qm", ["status", String(p.vmid)]);
      const m = /^status:\s*([a-z-]+)\s*$/m.exec(stdout);
      if (!m) throw new BlockhostError("E_COMMAND_FAILED", `qm status ${p.vmid}: unexpected output`);
      return { status: m[1]! };
    });
  },
});

/** `{responding: true}` when the QEMU guest agent answers, else `{responding: false, reason}`. */
export const qmGuestPing = defineAction({
  name: "qm-guest-ping",
  params: byVmid,
  timeoutMs: 15_000,
  handler: async (p, ctx) => {
    try {
      await ctx.run("qm", ["guest", "cmd", String(p.vmid), "ping"]);
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
  params: object({ vmid, command: array(printableArg, 1, 64), timeout: optional(int(1, 600)) }),
  timeoutMs: 660_000,
  handler: async (p, ctx) => {
    const timeout = String(p.timeout ?? 60);
    const { stdout } = await ctx.run("qm", ["guest", "exec", String(p.vmid), "--timeout", timeout, "--", ...p.command]);
    return parseGuestExec(stdout);
  },
});

/** qm prints `{"exitcode":N,"exited":1,"out-data":"…","err-data":"…"}` (exitcode absent while running). */
export function parseGuestExec(stdout: string): {
  exited: boolean;
  exitcode: number | null;
  stdout: string;
  stderr: string;
} {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new BlockhostError("E_COMMAND_FAILED", "qm guest exec: output is not JSON");
  }
  if (typeof data !== "object" || data === null)
    throw new BlockhostError("E_COMMAND_FAILED", "qm guest exec: output is not an object");
  const d = data as Record<string, unknown>;
  return {
    exited: d.exited === 1 || d.exited === true,
    exitcode: typeof d.exitcode === "number" ? d.exitcode : null,
    stdout: typeof d["out-data"] === "string" ? d["out-data"] : "",
    stderr: typeof d["err-data"] === "string" ? d["err-data"] : "",
  };
}
