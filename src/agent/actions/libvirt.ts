/** libvirt actions: per-VM overlay disk, NoCloud seed ISO, a domain the agent builds itself, power and guest agent. */
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { array, int, literal, object, optional, refine, str, type Schema } from "../../core/schema.ts";
import { ifaceName, vmName } from "../../core/validators.ts";
import { initrdPath, kernelPath } from "../../core/template/manifest.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { confinedFile, printableArg } from "./params.ts";
import { detectAccel, domainXml, vmFiles } from "./libvirt-domain.ts";
import { PORT_RE } from "../port-guard/rules.ts";
import { classifyVirshFailure, inState, noDomain, notRunning } from "./virsh-failure.ts";
import type { ActionContext } from "./types.ts";
import { defineAction } from "./types.ts";

/** A domain name: a VM name with at least one letter (virsh reads an all-digit name as a domain id). */
export const domain = refine(vmName, "a VM name with at least one letter", (v) => /[a-zA-Z]/.test(v));
const byName = object({ name: domain });
/** The MACs BlockHost gives libvirt VMs (allocate.ts macForVmid). */
export const mac = str(/^52:54:00(:[0-9a-f]{2}){3}$/, "a locally administered QEMU MAC 52:54:00:xx:xx:xx", 17);
const netName = str(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,49}$/, "a libvirt network name", 50);
const URI = "qemu:///system";

const vmDir = (name: string) => join(paths.vmsDir, name);

/** The template must sit in the root-owned, not group/world-writable templates dir: qemu re-opens it at every start. */
const templateFile: Schema<string> = refine(
  confinedFile(() => [paths.templatesDir]),
  "a root-owned template in the templates dir",
  (p) => {
    for (const f of [paths.templatesDir, p]) {
      const st = lstatSync(f);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
    }
    return true;
  },
);

const virsh = (ctx: ActionContext, argv: string[], okCodes?: number[]) =>
  ctx.run("virsh", ["-q", "-c", URI, ...argv], { okCodes });

/** Copy a file the agent opened itself (O_NOFOLLOW, regular, root-owned) into the VM dir. */
function copyOpened(src: string, dst: string): void {
  const fd = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== 0) throw new BlockhostError("E_STATE", `${src} is not a root-owned regular file`);
    writeFileAtomic(dst, readFileSync(fd), { mode: 0o644 });
  } finally {
    closeSync(fd);
  }
}

/**
 * Per-VM directory (root, 0711) with the template's kernel and initrd copied in and a qcow2
 * overlay backed by the template ("linked clone"), sized to the plan's disk.
 */
export const qemuImgOverlay = defineAction({
  name: "qemu-img-overlay",
  params: object({ name: domain, template: templateFile, size_gb: int(1, 4096) }),
  timeoutMs: 120_000,
  handler: async (p, ctx) => {
    const dir = vmDir(p.name);
    ensureDirUnder(paths.root, paths.vmsDir, 0o711);
    if (existsSync(dir)) throw new BlockhostError("E_CONFLICT", `${dir} already exists (destroy the VM's files first)`);
    ensureDirUnder(paths.root, dir, 0o711);
    const f = vmFiles(dir);
    copyOpened(kernelPath(p.template), f.kernel);
    copyOpened(initrdPath(p.template), f.initrd);
    await ctx.run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-F",
      "qcow2",
      "-b",
      p.template,
      f.disk,
      `${p.size_gb}G`,
    ]);
    const fd = openSync(f.disk, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
    return { dir, disk: f.disk };
  },
});

const cloudConfig = str(
  /^#cloud-config\n[^\0]*$/,
  "cloud-init user-data starting with #cloud-config (≤256 KiB)",
  256 * 1024,
);
const networkConfig = str(
  /^version: 2\n[\x20-\x7e\n]*$/,
  "a network-config (version 2) of printable text (≤64 KiB)",
  64 * 1024,
);

/**
 * The NoCloud seed (volume label `cidata`): user-data and network-config from the client,
 * meta-data built here. Files are staged in a root-only directory, the ISO is renamed into place
 * 0600 (it carries the VM secret; libvirt hands it to qemu's user while the VM runs).
 */
export const seedIsoWrite = defineAction({
  name: "seed-iso-write",
  params: object({
    name: domain,
    instance_id: str(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/, "an instance id", 100),
    user_data: cloudConfig,
    network_config: networkConfig,
  }),
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    const dir = vmDir(p.name);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st || !st.isDirectory() || st.uid !== 0)
      throw new BlockhostError("E_STATE", `${dir} is missing (create the overlay first)`);
    const stage = mkdtempSync(join(dir, ".seed-"));
    try {
      writeFileSync(join(stage, "user-data"), p.user_data, { mode: 0o600 });
      writeFileSync(join(stage, "meta-data"), `instance-id: ${p.instance_id}\nlocal-hostname: ${p.name}\n`, {
        mode: 0o600,
      });
      writeFileSync(join(stage, "network-config"), p.network_config, { mode: 0o600 });
      const tmp = join(stage, "seed.iso");
      await ctx.run("genisoimage", [
        "-quiet",
        "-output",
        tmp,
        "-volid",
        "cidata",
        "-joliet",
        "-rock",
        join(stage, "user-data"),
        join(stage, "meta-data"),
        join(stage, "network-config"),
      ]);
      const fd = openSync(tmp, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        fchmodSync(fd, 0o600);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, vmFiles(dir).seed);
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
    return { seed: vmFiles(dir).seed };
  },
});

/** Resolve `accel` (auto → KVM only where it really works) on this host. */
function resolveAccel(wanted: "auto" | "kvm" | "tcg"): { accel: "kvm" | "tcg"; reason: string } {
  if (wanted === "tcg") return { accel: "tcg", reason: "accel: tcg in the configuration" };
  let opens = false;
  try {
    closeSync(openSync("/dev/kvm", constants.O_RDWR));
    opens = true;
  } catch {
    /* absent or not permitted */
  }
  const found = detectAccel(readFileSync("/proc/cpuinfo", "utf8"), opens);
  if (wanted === "kvm" && found.accel !== "kvm")
    throw new BlockhostError("E_CONFIG_INVALID", `accel: kvm was asked for but ${found.reason}`);
  return found;
}

/** Define the VM's domain from XML the agent writes itself; only values, never client XML. */
export const virshDefine = defineAction({
  name: "virsh-define",
  params: refine(
    object({
      name: domain,
      template: templateFile,
      memory_mb: int(128, 1_048_576),
      vcpus: int(1, 256),
      mac,
      network: optional(netName),
      bridge: optional(ifaceName),
      accel: literal("auto", "kvm", "tcg"),
    }),
    "exactly one of network or bridge",
    (p) => (p.network === undefined) !== (p.bridge === undefined),
  ),
  timeoutMs: 120_000,
  handler: async (p, ctx) => {
    const dir = vmDir(p.name);
    const f = vmFiles(dir);
    for (const file of [f.disk, f.seed, f.kernel, f.initrd]) {
      const st = lstatSync(file, { throwIfNoEntry: false });
      if (!st || !st.isFile() || st.uid !== 0)
        throw new BlockhostError("E_STATE", `${file} is missing (create the overlay and the seed first)`);
    }
    const { accel, reason } = resolveAccel(p.accel);
    const xml = domainXml({
      name: p.name,
      dir,
      template: p.template,
      memoryMb: p.memory_mb,
      vcpus: p.vcpus,
      mac: p.mac,
      network: p.network,
      bridge: p.bridge,
      accel,
    });
    writeFileAtomic(f.xml, xml, { mode: 0o600 });
    await virsh(ctx, ["define", f.xml]);
    return { accel, reason };
  },
});

/** virsh on one domain; a failure virsh explains comes back with a code (see virsh-failure.ts). */
async function virshOnDomain(ctx: ActionContext, argv: string[]) {
  try {
    return await virsh(ctx, argv);
  } catch (e) {
    throw classifyVirshFailure(e);
  }
}

export const virshStart = defineAction({
  name: "virsh-start",
  params: byName,
  timeoutMs: 120_000,
  handler: async (p, ctx) => {
    try {
      await virshOnDomain(ctx, ["start", p.name]);
      return { started: true };
    } catch (e) {
      if (inState(e, "running")) return { started: false };
      throw e;
    }
  },
});

/** ACPI power button; returns at once (poll virsh-domstate, then virsh-destroy to force). */
export const virshShutdown = defineAction({
  name: "virsh-shutdown",
  params: byName,
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    try {
      await virshOnDomain(ctx, ["shutdown", p.name]);
      return { requested: true };
    } catch (e) {
      if (notRunning(e)) return { requested: false };
      throw e;
    }
  },
});

/** Reboot request (ACPI or guest agent, as libvirt chooses); returns at once; a domain that is not running is `{requested: false}`. */
export const virshReboot = defineAction({
  name: "virsh-reboot",
  params: byName,
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    try {
      await virshOnDomain(ctx, ["reboot", p.name]);
      return { requested: true };
    } catch (e) {
      if (notRunning(e)) return { requested: false };
      throw e;
    }
  },
});

/** Hard power-off; a domain that is not running (or not there) is `{stopped: false}`. */
export const virshDestroy = defineAction({
  name: "virsh-destroy",
  params: byName,
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    try {
      await virshOnDomain(ctx, ["destroy", p.name]);
      return { stopped: true };
    } catch (e) {
      if (notRunning(e) || noDomain(e)) return { stopped: false };
      throw e;
    }
  },
});

export const virshUndefine = defineAction({
  name: "virsh-undefine",
  params: byName,
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    try {
      await virshOnDomain(ctx, ["undefine", p.name]);
      return { removed: true };
    } catch (e) {
      if (noDomain(e)) return { removed: false };
      throw e;
    }
  },
});

/** `{state: "running" | "shut off" | "paused" | …}`, or `"missing"` when no such domain is defined. */
export const virshDomstate = defineAction({
  name: "virsh-domstate",
  params: byName,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    try {
      const { stdout } = await virshOnDomain(ctx, ["domstate", p.name]);
      return { state: stdout.trim().split("\n")[0] ?? "" };
    } catch (e) {
      if (noDomain(e)) return { state: "missing" };
      throw e;
    }
  },
});

/** The host-side devices of the domain's NICs (`bhv…`, or vnetN for domains defined before ports were named). */
export const virshDomiflist = defineAction({
  name: "virsh-domiflist",
  params: byName,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const { stdout } = await virsh(ctx, ["domiflist", p.name]);
    const devs = stdout
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0] ?? "")
      .filter((d) => /^vnet\d{1,5}$/.test(d) || PORT_RE.test(d));
    return { interfaces: devs };
  },
});

const agentCommand = async (ctx: ActionContext, name: string, cmd: object) =>
  JSON.parse((await virsh(ctx, ["qemu-agent-command", name, JSON.stringify(cmd)])).stdout) as { return?: unknown };

export const virshGuestPing = defineAction({
  name: "virsh-guest-ping",
  params: byName,
  timeoutMs: 15_000,
  handler: async (p, ctx) => {
    try {
      await agentCommand(ctx, p.name, { execute: "guest-ping" });
      return { responding: true };
    } catch (e) {
      if (e instanceof BlockhostError && e.code === "E_COMMAND_FAILED") return { responding: false, reason: e.message };
      throw e;
    }
  },
});

const b64 = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64").toString("utf8") : "");

/** Run an argv (no shell) in the guest through the QEMU guest agent and wait for it to exit. */
export const virshGuestExec = defineAction({
  name: "virsh-guest-exec",
  params: object({ name: domain, command: array(printableArg, 1, 64), timeout: optional(int(1, 600)) }),
  timeoutMs: 660_000,
  handler: async (p, ctx) => {
    const [path, ...arg] = p.command as [string, ...string[]];
    const started = await agentCommand(ctx, p.name, {
      execute: "guest-exec",
      arguments: { path, arg, "capture-output": true },
    });
    const pid = (started.return as { pid?: unknown } | undefined)?.pid;
    if (typeof pid !== "number")
      throw new BlockhostError("E_COMMAND_FAILED", "guest-exec: the guest agent returned no pid");
    const deadline = Date.now() + (p.timeout ?? 60) * 1000;
    for (;;) {
      const st = (await agentCommand(ctx, p.name, { execute: "guest-exec-status", arguments: { pid } }))
        .return as Record<string, unknown>;
      if (st?.exited === true)
        return {
          exited: true,
          exitcode: typeof st.exitcode === "number" ? st.exitcode : null,
          stdout: b64(st["out-data"]),
          stderr: b64(st["err-data"]),
        };
      if (Date.now() > deadline)
        throw new BlockhostError("E_TIMEOUT", `guest-exec: ${path} still running after ${p.timeout ?? 60} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  },
});

/** Remove a VM's directory (overlay, seed, kernel, initrd, XML, console log); absent is `{removed: false}`. */
export const libvirtVmFilesDelete = defineAction({
  name: "libvirt-vm-files-delete",
  params: byName,
  timeoutMs: 60_000,
  handler: async (p) => {
    const dir = vmDir(p.name);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) return { removed: false };
    if (!st.isDirectory()) throw new BlockhostError("E_STATE", `${dir} is not a directory`);
    rmSync(dir, { recursive: true, force: true });
    return { removed: true };
  },
});

/**
 * What a libvirt host offers, for setup's backend check: the daemon's versions, the accelerator
 * `auto` would pick, whether the network is active and the bridge exists.
 */
export const libvirtHostCheck = defineAction({
  name: "libvirt-host-check",
  params: object({ network: optional(netName), bridge: ifaceName }),
  timeoutMs: 60_000,
  handler: async (p, ctx) => {
    let version = "";
    try {
      version = (await virsh(ctx, ["version"])).stdout;
    } catch (e) {
      return { reachable: false, reason: e instanceof Error ? e.message : String(e) };
    }
    const { accel, reason } = resolveAccel("auto");
    let networkActive: boolean | null = null;
    if (p.network) {
      const info = await virsh(ctx, ["net-info", p.network], [0, 1]);
      networkActive = /^Active:\s+yes$/m.test(info.stdout);
    }
    return {
      reachable: true,
      libvirt: /Using library: libvirt (\S+)/.exec(version)?.[1] ?? "unknown",
      qemu: /Running hypervisor: QEMU (\S+)/.exec(version)?.[1] ?? "unknown",
      accel,
      accel_reason: reason,
      network_active: networkActive,
      bridge_exists: existsSync(join("/sys/class/net", p.bridge, "bridge")),
    };
  },
});
