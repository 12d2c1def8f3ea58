/**
 * The ISO's Debian pieces: the target image (a squashfs the installer copies onto the disk and the live system
 * runs from), its kernel and initramfs. Built by mmdebstrap from Debian's mirror, cached by input hash.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SUITES = { bookworm: "Debian 12", trixie: "Debian 13" } as const;
export type Suite = keyof typeof SUITES;
export const MIRROR = "http://deb.debian.org/debian";
export const SECURITY_MIRROR = "http://deb.debian.org/debian-security";
export const DEFAULT_CACHE = "/var/tmp/blockhost-iso";
const HERE = import.meta.dir;

/** A host: kernel, boot loaders for BIOS and UEFI, networkd DHCP, SSH, and what the installer itself runs. */
const BASE_PACKAGES = [
  "linux-image-amd64",
  "initramfs-tools",
  "busybox",
  "systemd-sysv",
  "systemd-resolved",
  "udev",
  "dbus",
  "kmod",
  "grub-pc",
  "grub-efi-amd64-bin",
  "openssh-server",
  "openssh-client",
  "ca-certificates",
  "curl",
  "less",
  "e2fsprogs",
  "dosfstools",
  "fdisk",
  "util-linux",
];
/** The package's Depends as debian/control states them (one owner: a new dependency reaches the image). */
export function controlDepends(control: string): string[] {
  const line = /^Depends:(.*(?:\n[ \t].*)*)/m.exec(control)?.[1] ?? "";
  return line
    .split(",")
    .map((d) => d.trim().split(/[\s(|]/)[0]!)
    .filter((d) => d !== "" && !d.startsWith("$"));
}
const CONTROL = readFileSync(join(HERE, "../../debian/control"), "utf8");
/** blockhost's Depends, and the libvirt backend's host tools (src/template, provision) and its Recommends. */
const BLOCKHOST_PACKAGES = [
  ...controlDepends(CONTROL),
  "wireguard-tools",
  "libvirt-daemon-system",
  "libvirt-clients",
  "qemu-system-x86",
  "qemu-utils",
  "genisoimage",
  "mmdebstrap",
];
export const TARGET_PACKAGES = [...BASE_PACKAGES, ...BLOCKHOST_PACKAGES];

/** The mirror lines of a suite: the release, its updates and its security updates. */
export function mirrors(suite: Suite): string[] {
  return [
    `deb ${MIRROR} ${suite} main`,
    `deb ${MIRROR} ${suite}-updates main`,
    `deb ${SECURITY_MIRROR} ${suite}-security main`,
  ];
}

export interface ImagePieces {
  dir: string;
  key: string;
  squashfs: string;
  vmlinuz: string;
  initrd: string;
  kernelVersion: string;
  /** `name\tversion` lines of every package in the image. */
  packages: Map<string, string>;
  /** Suite → the mirror's Release date the image was built from. */
  suites: Record<string, string>;
  /** The image's dpkg status file (for `apt-get --simulate` against the ISO's repository). */
  dpkgStatus: string;
  built: boolean;
  seconds: number;
}

function inputKey(suite: Suite): string {
  const recipe = readFileSync(join(HERE, "rootfs-hook.sh"), "utf8");
  return createHash("sha256")
    .update(JSON.stringify([suite, mirrors(suite), TARGET_PACKAGES, recipe, 1]))
    .digest("hex")
    .slice(0, 16);
}

function run(argv: string[], say: (line: string) => void): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  if (r.exitCode !== 0) {
    const tail = (r.stderr.toString() || r.stdout.toString()).trim().split("\n").slice(-8).join("\n");
    throw new Error(`${argv[0]} failed (exit ${r.exitCode}):\n${tail}`);
  }
  const out = r.stderr.toString().trim();
  if (out) say(out.split("\n").slice(-2).join(" | "));
}

function load(dir: string, key: string, built: boolean, seconds: number): ImagePieces {
  const tsv = (f: string) =>
    readFileSync(join(dir, f), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split("\t") as [string, string]);
  return {
    dir,
    key,
    squashfs: join(dir, "target.squashfs"),
    vmlinuz: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.img"),
    kernelVersion: readFileSync(join(dir, "kernel-version"), "utf8").trim(),
    packages: new Map(tsv("packages.tsv")),
    suites: Object.fromEntries(tsv("suites.tsv")),
    dpkgStatus: join(dir, "dpkg-status"),
    built,
    seconds,
  };
}

/** The pieces for `suite`, from `cache` when built before with the same inputs, else built now (needs root). */
export function ensureImage(suite: Suite, cache: string, say: (line: string) => void): ImagePieces {
  const key = inputKey(suite);
  const dir = join(cache, `image-${suite}-${key}`);
  if (existsSync(join(dir, "complete"))) return load(dir, key, false, 0);
  if (process.getuid?.() !== 0) throw new Error("building the ISO's Debian image needs root (mmdebstrap, mksquashfs)");
  const started = performance.now();
  mkdirSync(cache, { recursive: true });
  for (const stale of readdirSync(cache))
    if (stale.startsWith(`building-${suite}-`)) rmSync(join(cache, stale), { recursive: true, force: true });
  const building = join(cache, `building-${suite}-${key}-${process.pid}`);
  const rootfs = join(building, "rootfs");
  mkdirSync(building, { recursive: true });
  say(`mmdebstrap ${SUITES[suite]} (${suite}): ${TARGET_PACKAGES.length} packages and their dependencies`);
  run(
    [
      "mmdebstrap",
      "--mode=root",
      "--variant=minbase",
      `--include=${TARGET_PACKAGES.join(",")}`,
      `--customize-hook=sh ${join(HERE, "rootfs-hook.sh")} "$1" ${building}`,
      suite,
      rootfs,
      ...mirrors(suite),
    ],
    say,
  );
  say("mksquashfs (zstd)");
  run(
    [
      "mksquashfs",
      rootfs,
      join(building, "target.squashfs"),
      "-comp",
      "zstd",
      "-Xcompression-level",
      "6",
      "-noappend",
      "-quiet",
      "-no-progress",
    ],
    say,
  );
  rmSync(rootfs, { recursive: true, force: true });
  writeFileSync(join(building, "complete"), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return load(dir, key, true, (performance.now() - started) / 1000);
}
