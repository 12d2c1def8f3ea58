/** The manifest written beside a template image (`<image>.json`): its reproducible inputs and checksum. */
import { existsSync, readFileSync } from "node:fs";
import { BlockhostError } from "../errors.ts";
import { array, bool, int, literal, object, optional, str, union, type Infer } from "../schema.ts";
import { OS_IDS } from "./os.ts";

const sha256Hex = str(/^[0-9a-f]{64}$/, "a sha256 hex digest", 64);
const absPath = str(/^\/[A-Za-z0-9._/+-]{0,255}$/, "an absolute path", 256);

const cmdline = str(/^[ -~]{1,512}$/, "a kernel command line", 512);
/** libvirt boots the bare ext4 image with the kernel and initrd that sit beside it. */
const directKernelBoot = object({
  mode: literal("direct-kernel"),
  kernel: str(/^[A-Za-z0-9._+-]{1,160}$/, "a file name beside the image", 160),
  initrd: str(/^[A-Za-z0-9._+-]{1,160}$/, "a file name beside the image", 160),
  cmdline,
});
/** An MBR-partitioned disk with GRUB (BIOS) in its boot sector: Proxmox (or any BIOS VM) boots it from the disk. */
const bootloaderBoot = object({
  mode: literal("bootloader"),
  bootloader: literal("grub-pc"),
  partition_table: literal("dos"),
  root_partition_start_sector: int(1, 1 << 20),
  cmdline,
});
type DirectKernelBoot = Infer<typeof directKernelBoot>;
type BootloaderBoot = Infer<typeof bootloaderBoot>;

export const manifestSchema = object({
  format: literal(1),
  image: str(/^[A-Za-z0-9._+-]{1,128}$/, "the image file name", 128),
  sha256: sha256Hex,
  size_bytes: int(1, Number.MAX_SAFE_INTEGER),
  virtual_size_gb: int(1, 1024),
  built_at: str(/^\d{4}-\d\d-\d\dT[0-9:.]+Z$/, "an ISO-8601 UTC time", 40),
  build_seconds: int(0, 86_400),
  inputs_sha256: sha256Hex,
  /** The OS id (debian-12, debian-13) the engine picks templates by; absent in manifests older than OS choice. */
  os: optional(literal(...OS_IDS)),
  debian_suite: str(/^[a-z]{2,20}$/, "a Debian suite name", 20),
  apt_sources: array(str(/^deb [ -~]{1,300}$/, "a deb source line", 310), 1, 10),
  packages: array(str(/^[a-z0-9][a-z0-9+.-]{0,99}$/, "a Debian package name", 100), 1, 200),
  blockhost_binary: absPath,
  blockhost_binary_sha256: sha256Hex,
  vmauth_files: array(absPath, 1, 50),
  cloud_init: bool,
  qemu_guest_agent: bool,
  boot: union<DirectKernelBoot | BootloaderBoot>(
    "a direct-kernel or bootloader boot section",
    directKernelBoot,
    bootloaderBoot,
  ),
});

export type TemplateManifest = Infer<typeof manifestSchema>;

export const manifestPath = (image: string) => `${image}.json`;
/** Direct kernel boot: the guest's kernel and initrd sit beside the image. */
export const kernelPath = (image: string) => `${image}.vmlinuz`;
export const initrdPath = (image: string) => `${image}.initrd`;

/** Read and validate `<image>.json`; names the file and the problem when it is missing or wrong. */
export function readManifest(image: string): TemplateManifest {
  return readManifestFile(manifestPath(image));
}

/** Read and validate a manifest by its own path (the one reader of the format, for every backend). */
export function readManifestFile(file: string): TemplateManifest {
  if (!existsSync(file))
    throw new BlockhostError(
      "E_NOT_FOUND",
      `${file}: no template manifest (build the template with 'blockhost template build')`,
    );
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new BlockhostError("E_CONFIG_INVALID", `${file}: not valid JSON`, undefined, { cause: e });
  }
  try {
    return manifestSchema.parse(data);
  } catch (e) {
    throw new BlockhostError("E_CONFIG_INVALID", `${file}: ${(e as Error).message}`);
  }
}

/** libvirt boots the template with its kernel and initrd: a bootloader image is Proxmox's, named as such. */
export function directKernelProblem(m: TemplateManifest): string | undefined {
  if (m.boot.mode === "direct-kernel") return undefined;
  return (
    `template ${m.image} is a ${m.boot.mode} image (for Proxmox); libvirt boots the direct-kernel one ` +
    "(blockhost template build without --boot bootloader)"
  );
}

/** Proxmox boots a VM from its disk (`args` is not allowed), so its template must carry a bootloader. */
export function bootloaderProblem(m: TemplateManifest): string | undefined {
  if (m.boot.mode === "bootloader") return undefined;
  return `boot.mode is ${JSON.stringify(m.boot.mode)}: a Proxmox VM boots from its disk, so the image needs a bootloader`;
}
