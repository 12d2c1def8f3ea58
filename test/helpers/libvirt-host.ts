// Real libvirt for VM tests: the daemons (started by hand when no systemd does it), a cached template, an isolated network.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { PrivateKeyAccount } from "viem/accounts";
import { startIsolatedNetwork, virsh } from "../../src/dev/libvirt-network.ts";
import {
  type CachedTemplate,
  cachedTemplate as cachedTemplateIn,
  installTemplate as installTemplateIn,
} from "../../src/template/cache.ts";
import { DEFAULT_OS, type OsId } from "../../src/core/template/os.ts";
import { baselineBinary, blockhostBinary } from "./binary.ts";
import { type LoginResult, sshLogin } from "./sshd.ts";
import { loginMessage, parseChallenge } from "./vmauth.ts";

/** Where built templates are kept between runs on one machine (keyed by their inputs' digest). */
export const TEMPLATE_CACHE = "/var/tmp/blockhost-vmtest";
/** The bridge the test network uses: one of the agent's route bridges, unused by anything else here. */
export const TEST_BRIDGE = "bhbr0";
export const TEST_NETWORK = "blockhost-test";

const run = (argv: string[]) => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });

/** Why VM tests cannot run here, or undefined when they can. */
export function libvirtUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of [
    "/usr/bin/virsh",
    "/usr/sbin/libvirtd",
    "/usr/bin/qemu-system-x86_64",
    "/usr/bin/qemu-img",
    "/usr/bin/mmdebstrap",
    "/usr/bin/genisoimage",
    "/usr/sbin/mkfs.ext4",
  ]) {
    if (!existsSync(bin))
      return `${bin} is not installed (apt-get install libvirt-daemon-system qemu-system-x86 qemu-utils mmdebstrap genisoimage)`;
  }
  return undefined;
}

/** The daemon named in `pidFile` runs (a stale pid file or one naming another process does not count). */
function daemonAlive(pidFile: string, bin: string): boolean {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] === bin;
  } catch {
    return false;
  }
}

/**
 * Make sure libvirtd answers on qemu:///system. Without systemd as PID 1 nothing starts it, so start
 * virtlogd and libvirtd ourselves; `stop` ends only the daemons this call started (by their pid).
 */
export async function ensureLibvirtd(): Promise<{ started: boolean; stop: () => void }> {
  // Without udev /dev/kvm stays root:root 0600 and libvirt re-probes qemu on every call (~60 s each).
  if (existsSync("/dev/kvm")) {
    run(["/usr/bin/chgrp", "kvm", "/dev/kvm"]);
    run(["/usr/bin/chmod", "0660", "/dev/kvm"]);
  }
  // libvirt writes <bridge>.macs there for every network, even without dnsmasq; the package does not create it.
  mkdirSync("/var/lib/libvirt/dnsmasq", { recursive: true, mode: 0o755 });
  if (virsh("version").exitCode === 0) return { started: false, stop: () => {} };
  const pids: number[] = [];
  for (const [bin, sock, pidFile] of [
    ["/usr/sbin/virtlogd", "/run/libvirt/virtlogd-sock", "/run/virtlogd.pid"],
    ["/usr/sbin/libvirtd", "/run/libvirt/libvirt-sock", "/run/libvirtd.pid"],
  ] as const) {
    if (daemonAlive(pidFile, bin)) continue;
    // A daemon killed earlier leaves its socket (connect() is refused) and pid file behind.
    rmSync(sock, { force: true });
    rmSync(pidFile, { force: true });
    run([bin, "-d"]);
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await Bun.sleep(100);
    if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, "utf8").trim()));
  }
  for (let i = 0; i < 100 && virsh("version").exitCode !== 0; i++) await Bun.sleep(200);
  return {
    started: true,
    stop: () => {
      for (const pid of pids.reverse())
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          /* gone */
        }
    },
  };
}

/** Debian root filesystem tarballs, one per suite and package set, shared by every template the tests build. */
const ROOTFS_CACHE = join(TEMPLATE_CACHE, "rootfs-cache");

/**
 * The direct-kernel template of `os` for this build of the guest binary: from the cache when its
 * inputs match, else built with the `blockhost template build --os` command (the Debian root
 * filesystem tarball is cached too). The default OS keeps the cache dir's top level.
 */
export function cachedTemplate(os: OsId = DEFAULT_OS): Promise<CachedTemplate> {
  return cachedTemplateIn({
    cacheDir: os === DEFAULT_OS ? TEMPLATE_CACHE : join(TEMPLATE_CACHE, os),
    binary: baselineBinary(),
    os,
    build: async (output) => {
      const argv = ["template", "build", "--os", os, "--output", output, "--binary", baselineBinary()];
      const r = run([blockhostBinary(), ...argv, "--rootfs-cache", ROOTFS_CACHE]);
      if (r.exitCode !== 0) throw new Error(`template build failed: ${r.stderr.toString().trim().split("\n").at(-1)}`);
    },
  });
}

/**
 * The bootloader (GRUB, partitioned) template for this guest binary, built with `blockhost template
 * build --boot bootloader` into its own cache dir, from the same cached Debian root filesystem.
 */
export function cachedBootloaderTemplate(): Promise<CachedTemplate> {
  return cachedTemplateIn({
    cacheDir: join(TEMPLATE_CACHE, "bootloader"),
    binary: baselineBinary(),
    boot: "bootloader",
    build: async (output) => {
      const argv = ["template", "build", "--boot", "bootloader", "--output", output, "--binary", baselineBinary()];
      const r = run([blockhostBinary(), ...argv, "--rootfs-cache", ROOTFS_CACHE]);
      if (r.exitCode !== 0) throw new Error(`template build failed: ${r.stderr.toString().trim().split("\n").at(-1)}`);
    },
  });
}

/** Copy a cached template into a root's libvirt templates dir, root-owned, under the name the backend picks for `os`. */
export const installTemplate = (root: string, image: string, os: OsId = DEFAULT_OS): string =>
  installTemplateIn(root, join(root, "var/lib/libvirt/blockhost/templates"), image, os);

/** An isolated libvirt network (no forward, no DHCP, no DNS) on TEST_BRIDGE with the pool's gateways. */
export const startTestNetwork = (gateway4: string, gateway6: string): { stop: () => void } =>
  startIsolatedNetwork({
    name: TEST_NETWORK,
    bridge: TEST_BRIDGE,
    gateway4,
    gateway6,
    xmlPath: join(TEMPLATE_CACHE, `net-${process.pid}.xml`),
  });

/** virsh as the test (root) sees it: for assertions on domain state. */
export function virshOut(...args: string[]): { code: number; out: string } {
  const r = virsh(...args);
  return { code: r.exitCode, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}

/** Resident memory of a running domain's qemu process in MiB (undefined when it is not running). */
export function qemuRssMiB(name: string): number | undefined {
  try {
    const pid = readFileSync(`/run/libvirt/qemu/${name}.pid`, "utf8").trim();
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One keyboard-interactive login into a guest answering with `signer`'s EIP-191 signature of the code
 * shown. sshd asks again after a refused answer: a second prompt is the refusal (answering on would
 * only retry, each prompt running the blockhost binary in the guest).
 */
export function walletSshLogin(
  host: string,
  username: string,
  signer: PrivateKeyAccount,
  timeoutMs: number,
): Promise<LoginResult> {
  let prompts = 0;
  return sshLogin(
    22,
    username,
    async (prompt) => {
      if (++prompts > 1) throw new Error("refused: sshd asked again");
      const c = parseChallenge(prompt);
      return signer.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    },
    timeoutMs,
    host,
  );
}

/** P1 = purchase mined → first wallet SSH login, split by the engine's events into chain wait, create, boot. */
export function p1Split(events: Array<Record<string, unknown>>, vmName: string, mined: number, loggedIn: number) {
  const at = (text: string) => Date.parse(String(events.find((e) => String(e.message ?? "").includes(text))?.ts));
  const createStart = at(`creating the overlay disk of ${vmName}`);
  const bootStart = at(`defined domain ${vmName}`);
  const defined = events.find((e) => String(e.message ?? "").startsWith(`defined domain ${vmName}`));
  return {
    accel: /\((KVM|QEMU TCG)/.exec(String(defined?.message))?.[1],
    p1: (loggedIn - mined) / 1000,
    chainWait: (createStart - mined) / 1000,
    create: (bootStart - createStart) / 1000,
    bootToLogin: (loggedIn - bootStart) / 1000,
  };
}

/** A name the test resolver answers, and its two addresses (inside the test network's pools, unused). */
export const TEST_DNS_NAME = "vmtest.blockhost.test";
export const TEST_DNS_A = "10.215.0.99";
export const TEST_DNS_AAAA = "fd42:b10c::99";

/**
 * dnsmasq (dnsmasq-base) on the test bridge's two gateway addresses: answers TEST_DNS_NAME, forwards
 * nothing, logs every query with its source address to `log()`.
 */
export function startTestResolver(): { stop: () => void; log: () => string } {
  mkdirSync(TEMPLATE_CACHE, { recursive: true });
  const logFile = join(TEMPLATE_CACHE, `dnsmasq-${process.pid}.log`);
  rmSync(logFile, { force: true });
  const p = Bun.spawn(
    [
      "/usr/sbin/dnsmasq",
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--bind-dynamic",
      `--interface=${TEST_BRIDGE}`,
      "--port=53",
      `--address=/${TEST_DNS_NAME}/${TEST_DNS_A}`,
      `--address=/${TEST_DNS_NAME}/${TEST_DNS_AAAA}`,
      "--log-queries",
      `--log-facility=${logFile}`,
      `--pid-file=${join(TEMPLATE_CACHE, `dnsmasq-${process.pid}.pid`)}`,
      "--user=root",
      "--group=root",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  return {
    stop: () => {
      p.kill("SIGTERM");
      rmSync(join(TEMPLATE_CACHE, `dnsmasq-${process.pid}.pid`), { force: true });
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
  };
}

/** Files of a built template read straight from its ext4 (qcow2 → raw → debugfs), no boot needed. */
export function readTemplateFiles(image: string, files: string[]): Record<string, string | null> {
  const dir = mkdtempSync(join(TEMPLATE_CACHE, "read-"));
  try {
    const raw = join(dir, "root.raw");
    const conv = run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", image, raw]);
    if (conv.exitCode !== 0) throw new Error(`qemu-img convert: ${conv.stderr.toString().trim()}`);
    // The bootloader image's ext4 starts at its partition; the direct-kernel image is the filesystem.
    const out: Record<string, string | null> = {};
    for (const f of files) {
      const r = run(["debugfs", "-R", `cat ${f}`, raw]);
      const text = r.stdout.toString();
      out[f] = /File not found/.test(r.stderr.toString()) ? null : text;
    }
    const ls = run(["debugfs", "-R", "ls -l /etc/apt/apt.conf.d", raw]).stdout.toString();
    out["ls /etc/apt/apt.conf.d"] = ls;
    out["ls /etc/ssh"] = run(["debugfs", "-R", "ls /etc/ssh", raw]).stdout.toString();
    out["ls /usr/lib/python3"] = /File not found/.test(
      run(["debugfs", "-R", "ls /usr/lib/python3", raw]).stderr.toString(),
    )
      ? null
      : "present";
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
