// Real libvirt for VM tests: the daemons (started by hand when no systemd does it), a cached template, an isolated network.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  initrdPath,
  kernelPath,
  manifestPath,
  readManifest,
  type TemplateManifest,
} from "../../src/template/manifest.ts";
import { templateInputsKey } from "../../src/template/build.ts";
import { sha256File } from "../../src/template/tools.ts";
import { baselineBinary, blockhostBinary } from "./binary.ts";

/** Where built templates are kept between runs on one machine (keyed by their inputs' digest). */
export const TEMPLATE_CACHE = "/var/tmp/blockhost-vmtest";
/** The bridge the test network uses: one of the agent's route bridges, unused by anything else here. */
export const TEST_BRIDGE = "bhbr0";
export const TEST_NETWORK = "blockhost-test";

const run = (argv: string[]) => Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
const virsh = (...args: string[]) => run(["/usr/bin/virsh", "-q", "-c", "qemu:///system", ...args]);

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
  if (existsSync("/dev/kvm")) run(["/usr/bin/chgrp", "kvm", "/dev/kvm"]), run(["/usr/bin/chmod", "0660", "/dev/kvm"]);
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

/**
 * The template for this build of the guest binary: from the cache when its inputs match, else built
 * with `blockhost template build` (the Debian root filesystem tarball is cached separately).
 */
export async function cachedTemplate(): Promise<{
  image: string;
  manifest: TemplateManifest;
  builtNow: boolean;
  seconds: number;
}> {
  const key = templateInputsKey({ binarySha256: await sha256File(baselineBinary()) });
  const image = join(TEMPLATE_CACHE, `template-${key.slice(0, 16)}.qcow2`);
  if (existsSync(image) && existsSync(manifestPath(image)))
    return { image, manifest: readManifest(image), builtNow: false, seconds: 0 };
  mkdirSync(TEMPLATE_CACHE, { recursive: true, mode: 0o755 });
  const started = performance.now();
  const r = run([
    blockhostBinary(),
    "template",
    "build",
    "--output",
    image,
    "--binary",
    baselineBinary(),
    "--rootfs-cache",
    join(TEMPLATE_CACHE, "rootfs-cache"),
  ]);
  if (r.exitCode !== 0) throw new Error(`template build failed: ${r.stderr.toString().trim().split("\n").at(-1)}`);
  return { image, manifest: readManifest(image), builtNow: true, seconds: (performance.now() - started) / 1000 };
}

/** Copy a cached template (image, kernel, initrd, manifest) into a root's libvirt templates dir, root-owned. */
export function installTemplate(root: string, image: string): string {
  for (const d of [
    "",
    "var",
    "var/lib",
    "var/lib/libvirt",
    "var/lib/libvirt/blockhost",
    "var/lib/libvirt/blockhost/templates",
  ]) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), 0o755); // qemu runs as libvirt-qemu and must traverse to the files
  }
  const dest = join(root, "var/lib/libvirt/blockhost/templates/blockhost-template.qcow2");
  for (const [from, to] of [
    [kernelPath(image), kernelPath(dest)],
    [initrdPath(image), initrdPath(dest)],
    [manifestPath(image), manifestPath(dest)],
    [image, dest],
  ] as const) {
    copyFileSync(from, `${to}.tmp`);
    chmodSync(`${to}.tmp`, 0o644);
    renameSync(`${to}.tmp`, to);
  }
  return dest;
}

/** An isolated libvirt network (no forward, no DHCP, no DNS) on TEST_BRIDGE with the pool's gateways. */
export function startTestNetwork(gateway4: string, gateway6: string): { stop: () => void } {
  const dropExisting = () => {
    virsh("net-destroy", TEST_NETWORK);
    virsh("net-undefine", TEST_NETWORK);
  };
  dropExisting();
  const xml = `<network><name>${TEST_NETWORK}</name><bridge name='${TEST_BRIDGE}' stp='off' delay='0'/><dns enable='no'/>
  <ip address='${gateway4}' netmask='255.255.255.0'/><ip family='ipv6' address='${gateway6}' prefix='120'/></network>`;
  const file = join(TEMPLATE_CACHE, `net-${process.pid}.xml`);
  mkdirSync(TEMPLATE_CACHE, { recursive: true });
  writeFileSync(file, xml);
  for (const args of [
    ["net-define", file],
    ["net-start", TEST_NETWORK],
  ]) {
    const r = virsh(...args);
    if (r.exitCode !== 0) throw new Error(`virsh ${args[0]}: ${r.stderr.toString().trim()}`);
  }
  return {
    stop: () => {
      dropExisting();
      rmSync(file, { force: true });
    },
  };
}

/** virsh as the test (root) sees it: for assertions on domain state. */
export function virshOut(...args: string[]): { code: number; out: string } {
  const r = virsh(...args);
  return { code: r.exitCode, out: (r.stdout.toString() + r.stderr.toString()).trim() };
}
