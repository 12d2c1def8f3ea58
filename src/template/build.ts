/** `buildTemplate`: a Debian VM template image from packages alone (mmdebstrap), with its manifest beside it. */
import { KERNEL_CMDLINE, ROOT_LABEL } from "../core/template/boot.ts";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { VM_AUTH_FILES, VM_BINARY_PATH } from "../vmauth/files/index.ts";
import { initrdPath, kernelPath, manifestPath, type TemplateManifest } from "../core/template/manifest.ts";
import {
  DEFAULT_MIRROR,
  DEFAULT_SUITE,
  ENABLED_UNITS,
  FSTAB,
  INITRAMFS_CONF,
  INITRAMFS_MODULES,
  INTERFACES,
  NEUTRAL_FILES,
  MASKED_UNITS,
  TEMPLATE_PACKAGES,
  aptSources,
  ROOT_PARTITION_START_SECTOR,
  grubCfg,
} from "./recipe.ts";
import { runTool, sha256File, sha256Text } from "./tools.ts";
import { DEFAULT_OS, type OsId, TEMPLATE_OSES, osForSuite } from "../core/template/os.ts";
import { addGrubFiles, assembleGrubDisk, bootloaderBootSection, requireGrubPcBin } from "./bootloader.ts";
import { GUEST_FILES } from "../guest/files/index.ts";

export interface TemplateBuildOptions {
  /** Where the qcow2 goes (its manifest, kernel and initrd land beside it). */
  output: string;
  /** The baseline (no-AVX2) blockhost binary copied to /usr/local/bin/blockhost in the guest. */
  binary: string;
  /** The OS to build (debian-12 unless `suite` names another Debian release). */
  os?: OsId;
  /** A Debian suite instead of an OS id (the manifest names its OS only when the suite is a known one). */
  suite?: string;
  mirror?: string;
  /** Root filesystem size in GiB (each VM's overlay is resized to its plan's disk). */
  sizeGb?: number;
  /** Directory keeping the mmdebstrap tarball keyed by its inputs, so a rebuild skips the download. */
  rootfsCache?: string;
  /**
   * direct-kernel (default): a bare ext4 image with its kernel and initrd beside it (libvirt boots
   * it with -kernel). bootloader: an MBR disk with GRUB, booted from the disk (Proxmox needs this).
   */
  boot?: TemplateBootMode;
  say?: (line: string) => void;
}

export type TemplateBootMode = "direct-kernel" | "bootloader";
export const TEMPLATE_BOOT_MODES: readonly TemplateBootMode[] = ["direct-kernel", "bootloader"];

export interface TemplateBuildResult {
  image: string;
  manifest: TemplateManifest;
  reusedRootfs: boolean;
  seconds: number;
}

/** The inputs that decide the Debian root filesystem (the cache key of the mmdebstrap step). */
function rootfsInputs(suite: string, mirror: string) {
  return {
    suite,
    sources: aptSources(suite, mirror),
    packages: [...TEMPLATE_PACKAGES],
    variant: "minbase",
    version: 1,
  };
}

/** A digest of everything that decides the image: same key, same guest (the test cache is keyed by it). */
export function templateInputsKey(o: {
  os?: OsId;
  suite?: string;
  mirror?: string;
  sizeGb?: number;
  binarySha256: string;
  boot?: TemplateBootMode;
}): string {
  const suite = o.suite ?? (o.os ? TEMPLATE_OSES[o.os].suite : DEFAULT_SUITE);
  const rootfsKey = sha256Text(JSON.stringify(rootfsInputs(suite, o.mirror ?? DEFAULT_MIRROR)));
  return sha256Text(
    JSON.stringify({
      rootfsKey,
      binarySha: o.binarySha256,
      files: VM_AUTH_FILES,
      GUEST_FILES,
      NEUTRAL_FILES,
      MASKED_UNITS,
      ENABLED_UNITS,
      KERNEL_CMDLINE,
      FSTAB,
      INTERFACES,
      INITRAMFS_CONF,
      INITRAMFS_MODULES,
      sizeGb: o.sizeGb ?? 3,
      // Only the bootloader image adds inputs, so a direct-kernel image keeps its key.
      ...(o.boot === "bootloader" ? { boot: o.boot, grub: grubCfg("V"), ROOT_PARTITION_START_SECTOR } : {}),
    }),
  );
}

/**
 * Build the template: mmdebstrap (or its cached tarball) → guest files (blockhost binary, vmauth
 * files, trimmed cloud-init, masked units, no SSH host keys, empty machine-id) → whole-disk ext4 →
 * qcow2, written beside `output` and renamed into place only when complete.
 */
export async function buildTemplate(opts: TemplateBuildOptions): Promise<TemplateBuildResult> {
  const started = performance.now();
  const say = opts.say ?? (() => {});
  const suite = opts.suite ?? TEMPLATE_OSES[opts.os ?? DEFAULT_OS].suite;
  const os = opts.suite ? osForSuite(opts.suite) : (opts.os ?? DEFAULT_OS);
  const mirror = opts.mirror ?? DEFAULT_MIRROR;
  const sizeGb = opts.sizeGb ?? 3;
  const boot = opts.boot ?? "direct-kernel";
  if (!TEMPLATE_BOOT_MODES.includes(boot))
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `boot: expected one of ${TEMPLATE_BOOT_MODES.join(", ")}, got ${JSON.stringify(boot)}`,
    );
  if (boot === "bootloader") requireGrubPcBin();
  if (!/^[a-z]{2,20}$/.test(suite))
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `suite: expected a Debian suite name like bookworm, got ${JSON.stringify(suite)}`,
    );
  if (!/^https?:\/\/[A-Za-z0-9.:/_-]{1,200}$/.test(mirror))
    throw new BlockhostError("E_INVALID_INPUT", `mirror: expected an http(s) URL, got ${JSON.stringify(mirror)}`);
  if (!existsSync(opts.binary) || !statSync(opts.binary).isFile())
    throw new BlockhostError(
      "E_NOT_FOUND",
      `${opts.binary}: no blockhost binary for the guest (build it with 'npm run build': dist/blockhost-baseline)`,
    );
  const outDir = dirname(opts.output);
  mkdirSync(outDir, { recursive: true, mode: 0o755 });
  const work = mkdtempSync(join(outDir, ".template-build-"));
  chmodSync(work, 0o700);
  try {
    const inputs = rootfsInputs(suite, mirror);
    const rootfsKey = sha256Text(JSON.stringify(inputs));
    const tree = join(work, "rootfs");
    const reused = await rootfsTree(inputs, rootfsKey, tree, opts.rootfsCache, say);
    const binarySha = await sha256File(opts.binary);
    customizeTree(tree, opts.binary);

    const kernel = pickBoot(tree, "vmlinuz-");
    const kernelVersion = basename(kernel).slice("vmlinuz-".length);
    say("making a small initrd");
    await slimInitrd(tree, kernelVersion);
    const raw = join(work, "root.raw");
    if (boot === "bootloader") {
      say("adding GRUB, assembling the partitioned disk");
      addGrubFiles(tree, kernelVersion);
      await assembleGrubDisk(tree, raw, sizeGb, work);
    } else {
      say("making the disk image");
      const initrd = pickBoot(tree, "initrd.img-");
      copyFileSync(kernel, join(work, "vmlinuz"));
      copyFileSync(initrd, join(work, "initrd"));
      await runTool(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-E", "root_owner=0:0", "-d", tree, raw, `${sizeGb}G`]);
    }
    rmSync(tree, { recursive: true, force: true });
    const qcow = join(work, "image.qcow2");
    await runTool(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow]);
    rmSync(raw, { force: true });

    const manifest: TemplateManifest = {
      format: 1,
      image: basename(opts.output),
      sha256: await sha256File(qcow),
      size_bytes: statSync(qcow).size,
      virtual_size_gb: sizeGb,
      built_at: new Date().toISOString(),
      build_seconds: Math.round((performance.now() - started) / 1000),
      inputs_sha256: templateInputsKey({ suite, mirror, sizeGb, binarySha256: binarySha, boot }),
      ...(os ? { os } : {}),
      debian_suite: suite,
      apt_sources: inputs.sources,
      packages: inputs.packages,
      blockhost_binary: VM_BINARY_PATH,
      blockhost_binary_sha256: binarySha,
      vmauth_files: VM_AUTH_FILES.map((f) => f.path),
      // The NoCloud seed configures the VM (blockhost-firstboot reads it; cloud-init is not installed).
      cloud_init: true,
      qemu_guest_agent: true,
      boot:
        boot === "bootloader"
          ? bootloaderBootSection()
          : {
              mode: "direct-kernel",
              kernel: basename(kernelPath(opts.output)),
              initrd: basename(initrdPath(opts.output)),
              cmdline: KERNEL_CMDLINE,
            },
    };
    const bootFiles = boot === "bootloader" ? [] : ["vmlinuz", "initrd"];
    // World-readable: libvirt's qemu runs as libvirt-qemu and reads the backing file, kernel and initrd.
    for (const f of [...bootFiles, "image.qcow2"]) chmodSync(join(work, f), 0o644);
    writeFileSync(join(work, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o644 });
    // The image last: a reader that finds the image finds its kernel, initrd and manifest too.
    if (boot === "bootloader") {
      // A direct-kernel image built earlier at this path must not leave its kernel and initrd behind.
      rmSync(kernelPath(opts.output), { force: true });
      rmSync(initrdPath(opts.output), { force: true });
    } else {
      renameSync(join(work, "vmlinuz"), kernelPath(opts.output));
      renameSync(join(work, "initrd"), initrdPath(opts.output));
    }
    renameSync(join(work, "manifest.json"), manifestPath(opts.output));
    renameSync(qcow, opts.output);
    const seconds = (performance.now() - started) / 1000;
    say(`template ${opts.output} built in ${seconds.toFixed(1)} s (${(manifest.size_bytes / 2 ** 20).toFixed(0)} MiB)`);
    return { image: opts.output, manifest, reusedRootfs: reused, seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The Debian root filesystem in `tree`: unpacked from the cache when its inputs match, else made
 * by mmdebstrap (directory output) and then cached as a tarball (a failed cache write is not fatal).
 */
async function rootfsTree(
  inputs: ReturnType<typeof rootfsInputs>,
  key: string,
  tree: string,
  cache: string | undefined,
  say: (l: string) => void,
): Promise<boolean> {
  const cached = cache ? join(cache, `rootfs-${inputs.suite}-${key.slice(0, 16)}.tar`) : null;
  if (cached && existsSync(cached)) {
    say(`reusing the Debian root filesystem ${cached}`);
    mkdirSync(tree, { mode: 0o755 });
    await runTool(["tar", "--numeric-owner", "-xpf", cached, "-C", tree]);
    return true;
  }
  say(`mmdebstrap ${inputs.suite}: ${inputs.packages.length} packages and their dependencies (takes a few minutes)`);
  // A loaded 2-core host took over 30 min here (its last step generates the initrd twice).
  const mmdebstrap = [
    "mmdebstrap",
    "--mode=root",
    "--format=directory",
    `--variant=${inputs.variant}`,
    `--include=${inputs.packages.join(",")}`,
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-include=/usr/share/locale/locale.alias",
    inputs.suite,
    tree,
    ...inputs.sources,
  ];
  await runTool(mmdebstrap, { timeoutMs: 2 * 3_600_000 });
  if (cached && cache) {
    const tmp = `${cached}.tmp-${process.pid}`;
    try {
      mkdirSync(cache, { recursive: true, mode: 0o755 });
      await runTool(["tar", "--numeric-owner", "-cpf", tmp, "-C", tree, "."]);
      renameSync(tmp, cached);
    } catch (e) {
      rmSync(tmp, { force: true });
      say(`could not cache the root filesystem (${(e as Error).message}); continuing`);
    }
  }
  return false;
}

/** Newest /boot file with this prefix (the guest kernel or its initrd). */
function pickBoot(tree: string, prefix: string): string {
  const names = readdirSync(join(tree, "boot"))
    .filter((n) => n.startsWith(prefix))
    .sort();
  const name = names.at(-1);
  if (!name)
    throw new BlockhostError(
      "E_STATE",
      `template root filesystem has no /boot/${prefix}* (linux-image-amd64 missing?)`,
    );
  return join(tree, "boot", name);
}

/**
 * Regenerate the guest's initrd with INITRAMFS_CONF (kept in the image, so a kernel update in the
 * guest makes the same small one). mkinitramfs runs chrooted with /proc mounted in a private mount
 * namespace, which takes the mount away with it.
 */
async function slimInitrd(tree: string, kernelVersion: string): Promise<void> {
  if (!/^[0-9][A-Za-z0-9.+_-]{0,80}$/.test(kernelVersion))
    throw new BlockhostError("E_STATE", `unexpected guest kernel version ${JSON.stringify(kernelVersion)}`);
  await runTool([
    "unshare",
    "--mount",
    "--fork",
    "chroot",
    tree,
    "/bin/sh",
    "-c",
    'mount -t proc proc /proc && mkinitramfs -o "/boot/initrd.img-$1" "$1"',
    "sh",
    kernelVersion,
  ]);
}

/** apt settings that name a proxy (the build host's, passed through mmdebstrap) do not belong in a VM. */
function removeAptProxies(tree: string): void {
  const dir = join(tree, "etc/apt/apt.conf.d");
  if (!existsSync(dir)) return;
  for (const n of readdirSync(dir)) {
    const file = join(dir, n);
    if (n === "99mmdebstrap" || /proxy/i.test(readFileSync(file, "utf8"))) rmSync(file, { force: true });
  }
}

/** Guest-side files: everything here is configuration; the first boot fills in the per-VM part. */
function customizeTree(tree: string, binary: string): void {
  const put = (path: string, content: string, mode = 0o644) => {
    const file = join(tree, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, content, { mode });
    chmodSync(file, mode);
  };
  put("etc/fstab", FSTAB);
  for (const f of NEUTRAL_FILES) {
    rmSync(join(tree, f.path.slice(1)), { force: true });
    put(f.path.slice(1), f.content);
  }
  put("etc/network/interfaces", INTERFACES);
  put("etc/initramfs-tools/conf.d/blockhost.conf", INITRAMFS_CONF);
  put("etc/initramfs-tools/modules", INITRAMFS_MODULES);
  // Kernel updates in the guest must regenerate the initrd (a build may have switched this off).
  const initramfsConf = join(tree, "etc/initramfs-tools/update-initramfs.conf");
  if (existsSync(initramfsConf))
    writeFileSync(
      initramfsConf,
      readFileSync(initramfsConf, "utf8").replace(/^update_initramfs=no$/m, "update_initramfs=yes"),
    );
  rmSync(join(tree, "var/lib/dbus/machine-id"), { force: true });
  for (const f of [...VM_AUTH_FILES, ...GUEST_FILES]) put(f.path.slice(1), f.content, f.mode);
  removeAptProxies(tree);
  const bin = join(tree, VM_BINARY_PATH.slice(1));
  mkdirSync(dirname(bin), { recursive: true, mode: 0o755 });
  copyFileSync(binary, bin);
  chmodSync(bin, 0o755);
  const sshDir = join(tree, "etc/ssh");
  for (const n of readdirSync(sshDir)) if (n.startsWith("ssh_host_")) unlinkSync(join(sshDir, n));
  const units = join(tree, "etc/systemd/system");
  mkdirSync(units, { recursive: true, mode: 0o755 });
  for (const u of MASKED_UNITS) {
    rmSync(join(units, u), { force: true });
    symlinkSync("/dev/null", join(units, u));
  }
  for (const { unit, wantedBy } of ENABLED_UNITS) {
    const wants = join(units, `${wantedBy}.wants`);
    mkdirSync(wants, { recursive: true, mode: 0o755 });
    rmSync(join(wants, unit), { force: true });
    symlinkSync(`/etc/systemd/system/${unit}`, join(wants, unit));
  }
  // No apt cache or lists in the image: nothing is installed in a customer VM at boot.
  rmSync(join(tree, "var/cache/apt/archives"), { recursive: true, force: true });
  mkdirSync(join(tree, "var/cache/apt/archives/partial"), { recursive: true, mode: 0o755 });
}
