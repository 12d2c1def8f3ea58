/**
 * `blockhost guest firstboot`, run by blockhost-firstboot.service on every boot before the network
 * and sshd: finds the NoCloud seed (volume label cidata), and when its instance-id is new, applies
 * it and grows the root filesystem; the same instance-id again (a reboot) changes nothing.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { BlockhostError, oneLine } from "../core/errors.ts";
import {
  type GuestHost,
  applyFiles,
  applyHostKeys,
  applyHostname,
  applyNetwork,
  applyUsers,
  type RunResult,
} from "./apply.ts";
import { type SeedFiles, parseSeed } from "./seed.ts";

/** The instance whose seed was applied (a new instance-id means a new VM: apply again). */
export const INSTANCE_FILE = "/var/lib/blockhost-guest/instance-id";
/** running | done | error, then a detail line: what the `cloud-init status` stand-in reads. */
export const STATUS_FILE = "/run/blockhost-guest/status";
const SEED_MOUNT = "/run/blockhost-guest/seed";
const SEED_LABELS = ["cidata", "CIDATA"];
const SEED_WAIT_MS = 60_000;
const NIC_WAIT_MS = 180_000;

const sleep = (ms: number) => Bun.sleep(ms);

function runArgv(argv: string[], input?: string): RunResult {
  const p = Bun.spawnSync(argv, {
    stdin: input === undefined ? "ignore" : Buffer.from(input),
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" },
  });
  return { code: p.exitCode ?? 1, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** The guest's NICs now: MAC → name. */
function liveNics(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync("/sys/class/net")) {
    if (name === "lo") continue;
    try {
      out.set(readFileSync(`/sys/class/net/${name}/address`, "utf8").trim().toLowerCase(), name);
    } catch {
      /* gone while listing */
    }
  }
  return out;
}

function setStatus(status: "running" | "done" | "error", detail: string): void {
  mkdirSync("/run/blockhost-guest", { recursive: true, mode: 0o755 });
  writeFileSync(STATUS_FILE, `${status}\n${detail}\n`, { mode: 0o644 });
}

/** ISO 9660's volume identifier: 32 bytes at offset 40 of the primary volume descriptor (sector 16). */
const ISO_LABEL_OFFSET = 16 * 2048 + 40;

/**
 * A CD or disk whose ISO 9660 label is cidata, read from the device itself: the kernel's device
 * node exists before udev has run blkid on it and made /dev/disk/by-label/cidata.
 */
function probeSeedDevice(): string | null {
  for (const name of readdirSync("/sys/class/block")) {
    if (!/^(sr\d+|vd[a-z]+|sd[a-z]+|hd[a-z]+)$/.test(name)) continue;
    let fd: number | undefined;
    try {
      fd = openSync(`/dev/${name}`, "r");
      const buf = Buffer.alloc(32);
      readSync(fd, buf, 0, 32, ISO_LABEL_OFFSET);
      if (SEED_LABELS.includes(buf.toString("latin1").trim())) return `/dev/${name}`;
    } catch {
      /* no medium yet, or not readable */
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return null;
}

/** The seed volume (found by its label on the device, or by udev's link), or null after the wait. */
async function findSeedDevice(log: (l: string) => void): Promise<string | null> {
  const deadline = Date.now() + SEED_WAIT_MS;
  for (let said = false; ; said = true) {
    const probed = probeSeedDevice();
    if (probed) return probed;
    for (const label of SEED_LABELS) {
      const link = `/dev/disk/by-label/${label}`;
      if (existsSync(link)) return realpathSync(link);
    }
    if (Date.now() > deadline) return null;
    if (!said) log("waiting for the seed volume (label cidata)");
    await sleep(100);
  }
}

function readSeed(device: string): SeedFiles {
  mkdirSync(SEED_MOUNT, { recursive: true, mode: 0o700 });
  const m = runArgv(["mount", "-o", "ro,nodev,nosuid,noexec", device, SEED_MOUNT]);
  if (m.code !== 0) throw new BlockhostError("E_STATE", `mount ${device}: ${m.err.trim()}`);
  try {
    const read = (n: string) =>
      existsSync(join(SEED_MOUNT, n)) ? readFileSync(join(SEED_MOUNT, n), "utf8") : undefined;
    const metaData = read("meta-data");
    if (metaData === undefined) throw new BlockhostError("E_STATE", `${device}: the seed has no meta-data`);
    const networkConfig = read("network-config");
    return { metaData, userData: read("user-data") ?? "", ...(networkConfig ? { networkConfig } : {}) };
  } finally {
    runArgv(["umount", SEED_MOUNT]);
  }
}

/** The kernel keeps its own NIC names (net.ifnames=0 on the command line): udev renames none. */
const kernelNamesFinal = () => /(^|\s)net\.ifnames=0(\s|$)/.test(readFileSync("/proc/cmdline", "utf8"));

/**
 * Wait until every NIC the seed names by MAC exists, then (unless the kernel's names are final)
 * until udev has handled the events queued so far, its rename to the predictable name included,
 * so the name read next is final.
 */
async function waitForNics(macs: string[], log: (l: string) => void): Promise<void> {
  const deadline = Date.now() + NIC_WAIT_MS;
  while (macs.some((m) => !liveNics().has(m)) && Date.now() < deadline) await sleep(100);
  const missing = macs.filter((m) => !liveNics().has(m));
  if (missing.length) log(`NIC ${missing.join(", ")} did not appear within ${NIC_WAIT_MS / 1000} s`);
  if (kernelNamesFinal()) return;
  const settle = runArgv(["udevadm", "settle", "--timeout=120"]);
  if (settle.code !== 0) log(`udevadm settle: ${oneLine(settle.err) || `exit ${settle.code}`}`);
}

/** The root filesystem's device, and for a partition its disk and number. */
function rootDevice(): { dev: string; disk?: string; partition?: number } {
  const src = runArgv(["findmnt", "-n", "-o", "SOURCE", "/"]).out.trim();
  const dev = src.startsWith("/dev/") ? realpathSync(src) : src;
  const sys = `/sys/class/block/${basename(dev)}`;
  if (!existsSync(`${sys}/partition`)) return { dev };
  const partition = Number(readFileSync(`${sys}/partition`, "utf8").trim());
  // The partition's sysfs directory sits inside its disk's (path.join would drop the link lexically).
  return { dev, disk: `/dev/${basename(dirname(realpathSync(sys)))}`, partition };
}

/** Grow the root partition (bootloader image) to the end of its disk, then the filesystem to the device. */
function growRoot(log: (l: string) => void): void {
  const root = rootDevice();
  if (root.disk && root.partition) {
    const p = runArgv(
      ["sfdisk", "--no-reread", "--no-tell-kernel", "--force", "-N", String(root.partition), root.disk],
      ", +\n",
    );
    if (p.code !== 0) log(`sfdisk could not grow ${root.dev}: ${oneLine(p.err)}`);
    else runArgv(["partx", "--update", "--nr", String(root.partition), root.disk]);
  }
  const r = runArgv(["resize2fs", root.dev]);
  if (r.code !== 0) log(`resize2fs ${root.dev}: ${oneLine(r.err)}`);
}

/** The whole first boot. Returns the exit code (0 also when the instance was configured before). */
export async function firstBoot(say: (l: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const started = performance.now();
  const t = () => `${((performance.now() - started) / 1000).toFixed(2)} s`;
  const log = (l: string) => say(`blockhost-firstboot: ${l}`);
  setStatus("running", "looking for the seed");
  log(`started (uptime ${readFileSync("/proc/uptime", "utf8").split(" ")[0]} s)`);
  try {
    const device = await findSeedDevice(log);
    if (!device) {
      const known = existsSync(INSTANCE_FILE);
      setStatus(known ? "done" : "error", "no seed volume (label cidata) attached");
      log(`no seed volume attached${known ? "; keeping the configuration of the last instance" : ""}`);
      return known ? 0 : 1;
    }
    const seed = parseSeed(readSeed(device));
    const previous = existsSync(INSTANCE_FILE) ? readFileSync(INSTANCE_FILE, "utf8").trim() : null;
    if (previous === seed.instanceId) {
      setStatus("done", `instance ${seed.instanceId} configured on an earlier boot`);
      log(`instance ${seed.instanceId} already configured (${t()})`);
      return 0;
    }
    log(`configuring new instance ${seed.instanceId} from ${device} (seed read at ${t()})`);
    if (seed.ignored.length) log(`user-data keys not acted on: ${seed.ignored.join(", ")}`);
    const host: GuestHost = { root: "/", run: runArgv, nics: liveNics, log };
    applyHostname(host, seed);
    await waitForNics(
      seed.interfaces.flatMap((n) => (n.mac ? [n.mac] : [])),
      log,
    );
    const nics = applyNetwork(host, seed);
    log(
      `network: ${nics.map((n) => `${n.name} ${[...n.ipv4, ...n.ipv6].map((a) => `${a.address}/${a.bits}`).join(" ")}`).join("; ")}; dns ${seed.nameservers.join(" ") || "none"} (${t()})`,
    );
    applyUsers(host, seed);
    applyFiles(host, seed);
    for (const fp of applyHostKeys(host, seed.hostname)) log(`host key ${fp}`);
    log(`hostname ${seed.hostname}, ${seed.users.length} user(s), ${seed.files.length} file(s), host keys (${t()})`);
    growRoot(log);
    mkdirSync("/var/lib/blockhost-guest", { recursive: true, mode: 0o755 });
    writeFileSync(`${INSTANCE_FILE}.tmp`, `${seed.instanceId}\n`);
    renameSync(`${INSTANCE_FILE}.tmp`, INSTANCE_FILE);
    setStatus("done", `instance ${seed.instanceId} configured`);
    log(`done in ${t()}`);
    return 0;
  } catch (e) {
    setStatus("error", oneLine(e));
    log(`failed: ${oneLine(e)}`);
    return 1;
  }
}
