/** A simulated Proxmox host: the qm simulator behind a real agent. */
import type { TemplateManifest } from "../../src/core/template/manifest.ts";
import { bootloaderBootSection } from "../../src/template/bootloader.ts";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { markerOf } from "../../src/provision/backends/proxmox-template.ts";
import { VM_AUTH_FILES, VM_BINARY_PATH } from "../../src/vmauth/files/index.ts";
import { startAgent, type RunningAgent } from "./agent.ts";
import { anvilAvailable } from "./anvil.ts";
import { createQmSimulator, type QmSimulator } from "./qm-simulator.ts";

export const TEMPLATE_VMID = 9001;

/** A template as `importProxmoxTemplate` leaves it: disk, cloud-init drive, net0, serial console, guest agent. */
export const PROXMOX_TEMPLATE_CONFIG: Record<string, string> = {
  name: "blockhost-template",
  scsi0: "local-lvm:base-9001-disk-0,size=4G",
  scsihw: "virtio-scsi-pci",
  ide2: "local-lvm:vm-9001-cloudinit,media=cdrom",
  net0: "virtio=BC:24:11:5E:00:01,bridge=vmbr0",
  boot: "order=scsi0",
  serial0: "socket",
  vga: "serial0",
  agent: "1",
  ostype: "l26",
  description: markerOf({ blockhost_binary: VM_BINARY_PATH }),
};

/**
 * A stand-in Proxmox host for provisioning tests: the real agent, the `qm` SIMULATOR (with a
 * template 9001), and real iproute2 `ip`/`bridge` acting inside a network namespace this helper
 * creates, holding bridge vmbr0. Like Proxmox, a `qm start N` plugs tapNi0 into vmbr0.
 */
export interface ProxmoxHost {
  readonly sim: QmSimulator;
  readonly agent: RunningAgent;
  readonly netns: string;
  /** Make every `qm <subcommand>` fail with `message` until cleared (undefined). */
  setFault(subcommand: string, message: string | undefined): void;
  /** Run `ip -n <netns> ARGS` and return stdout. */
  ip(...args: string[]): string;
  stop(): Promise<void>;
}

const sh = (argv: string[]) => {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
};

/** Whether this machine can create network namespaces (root with iproute2). */
export function canCreateNetns(): boolean {
  return process.getuid?.() === 0 && Bun.spawnSync(["/usr/sbin/ip", "netns", "list"]).exitCode === 0;
}

/** Why tests of the chain against a simulated Proxmox host cannot run here (anvil, netns), or undefined when they can. */
export function anvilProxmoxUnavailable(): string | undefined {
  if (!anvilAvailable()) return "anvil (linux-x64) is not available";
  return canCreateNetns() ? undefined : "network namespaces need root and iproute2";
}

export async function startProxmoxHost(root: string): Promise<ProxmoxHost> {
  const netns = `bhpx${process.pid}${Math.floor(Math.random() * 1e6)}`;
  sh(["/usr/sbin/ip", "netns", "add", netns]);
  sh(["/usr/sbin/ip", "-n", netns, "link", "add", "vmbr0", "type", "bridge"]);
  sh(["/usr/sbin/ip", "-n", netns, "link", "set", "vmbr0", "up"]);
  const sim = createQmSimulator();
  sim.addVm({ vmid: TEMPLATE_VMID, name: "blockhost-template", template: true, config: PROXMOX_TEMPLATE_CONFIG });
  const wrap = (name: string, body: string) => {
    const file = join(sim.stateDir, `${name}-wrapper`);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const ip = wrap("ip", `exec /usr/sbin/ip -n ${netns} "$@"`);
  const bridge = wrap("bridge", `exec /usr/sbin/bridge -n ${netns} "$@"`);
  const qm = wrap(
    "qm",
    [
      `if [ -e '${sim.stateDir}/fault-'"$1" ]; then cat '${sim.stateDir}/fault-'"$1" >&2; exit 255; fi`,
      `'${sim.qmPath}' "$@" || exit $?`,
      `if [ "$1" = start ]; then /usr/sbin/ip -n ${netns} tuntap add dev "tap$2i0" mode tap 2>/dev/null; /usr/sbin/ip -n ${netns} link set "tap$2i0" master vmbr0; fi`,
      `if [ "$1" = destroy ]; then /usr/sbin/ip -n ${netns} link del "tap$2i0" 2>/dev/null; fi`,
      "exit 0",
    ].join("\n"),
  );
  // pvesh: a start on this node (the sim's local node) plugs the tap like qm's; other nodes' taps are not here.
  const pvesh = wrap(
    "pvesh",
    [
      `'${sim.pveshPath}' "$@" || exit $?`,
      `local=$(cat '${sim.stateDir}/local-node' 2>/dev/null || echo pve)`,
      `case "$1 $2" in "create /nodes/$local/qemu/"*/status/start) id=\${2#/nodes/$local/qemu/}; id=\${id%/status/start}; /usr/sbin/ip -n ${netns} tuntap add dev "tap\${id}i0" mode tap 2>/dev/null; /usr/sbin/ip -n ${netns} link set "tap\${id}i0" master vmbr0;; esac`,
      "exit 0",
    ].join("\n"),
  );
  const nft = wrap("nft", `exec /usr/sbin/ip netns exec ${netns} /usr/sbin/nft "$@"`);
  const agent = await startAgent({ root, binaries: { qm, ip, bridge, pvesh, nft } });
  return {
    sim,
    agent,
    netns,
    setFault: (sub, message) =>
      message === undefined
        ? rmSync(join(sim.stateDir, `fault-${sub}`), { force: true })
        : writeFileSync(join(sim.stateDir, `fault-${sub}`), `${message}\n`),
    ip: (...args) => sh(["/usr/sbin/ip", "-n", netns, ...args]),
    async stop() {
      await agent.stop();
      sim.cleanup();
      Bun.spawnSync(["/usr/sbin/ip", "netns", "del", netns]);
    },
  };
}

/**
 * A manifest `importProxmoxTemplate` accepts: every field `blockhost template build --boot
 * bootloader` writes (template/manifest.ts's schema); its sha256 is replaced per image.
 */
export const IMPORTABLE_MANIFEST: TemplateManifest = {
  format: 1,
  image: "template.qcow2",
  sha256: "0".repeat(64),
  size_bytes: 1048576,
  virtual_size_gb: 4,
  built_at: "2026-12-01T18:00:00Z",
  build_seconds: 60,
  inputs_sha256: "1".repeat(64),
  debian_suite: "bookworm",
  apt_sources: ["deb http://deb.debian.org/debian bookworm main"],
  packages: ["qemu-guest-agent", "grub-pc"],
  blockhost_binary: VM_BINARY_PATH,
  blockhost_binary_sha256: "2".repeat(64),
  vmauth_files: VM_AUTH_FILES.map((f) => f.path),
  cloud_init: true,
  qemu_guest_agent: true,
  // Proxmox boots the VM from its disk.
  boot: bootloaderBootSection(),
};

/** An image of `bytes` (content is never booted: the simulator only records it) with its manifest beside it. */
export function writeTemplateImage(path: string, bytes = 1048576): void {
  const content = Buffer.alloc(bytes, 5);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  writeFileSync(
    `${path}.json`,
    JSON.stringify({ ...IMPORTABLE_MANIFEST, sha256: createHash("sha256").update(content).digest("hex") }),
  );
}

/**
 * What finalize on Proxmox reads under a root: /etc/pve/storage.cfg (local-lvm holding VM disks
 * unless given) and the image the template step imports by default. Returns the image path.
 */
export function writeProxmoxSetupFiles(
  root: string,
  storageCfg = "lvmthin: local-lvm\n\tthinpool data\n\tcontent images\n",
): string {
  mkdirSync(join(root, "etc/pve"), { recursive: true });
  writeFileSync(join(root, "etc/pve/storage.cfg"), storageCfg);
  const image = join(root, "var/lib/blockhost/images/blockhost-template.qcow2");
  writeTemplateImage(image);
  return image;
}

/** A bridge in this network namespace, for the backend check (it reads /sys/class/net); no address, no port. */
export function hostBridge(prefix: string): { name: string; remove(): void } {
  const name = `${prefix}${process.pid % 100000}`;
  sh(["/usr/sbin/ip", "link", "add", name, "type", "bridge"]);
  return { name, remove: () => void Bun.spawnSync(["/usr/sbin/ip", "link", "del", name]) };
}
