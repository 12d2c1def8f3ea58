/** The GRUB-bootable variant of the template: GRUB files in the tree, an MBR disk assembled with dd (the first boot grows the partition). */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { KERNEL_CMDLINE, ROOT_LABEL } from "../core/template/boot.ts";
import { ROOT_PARTITION_START_SECTOR, grubCfg } from "./recipe.ts";
import { runTool } from "./tools.ts";

/** Host grub-pc-bin's BIOS modules and boot sector (Debian package grub-pc-bin). */
export const GRUB_I386_DIR = "/usr/lib/grub/i386-pc";
/** The modules baked into GRUB's core image: enough to find the ext4 root by label and read grub.cfg. */
const CORE_MODULES = ["biosdisk", "part_msdos", "ext2", "search", "search_label", "normal", "linux", "serial"];

/** The manifest's boot section of an image assembled by `assembleGrubDisk`. */
export function bootloaderBootSection() {
  return {
    mode: "bootloader" as const,
    bootloader: "grub-pc" as const,
    partition_table: "dos" as const,
    root_partition_start_sector: ROOT_PARTITION_START_SECTOR,
    cmdline: KERNEL_CMDLINE,
  };
}

/** Refuse early, naming the package, when the host cannot assemble a bootloader disk. */
export function requireGrubPcBin(): void {
  if (!existsSync(join(GRUB_I386_DIR, "boot.img")))
    throw new BlockhostError(
      "E_NOT_FOUND",
      `${GRUB_I386_DIR}/boot.img: the bootloader image needs the host's GRUB BIOS files (apt-get install grub-pc-bin)`,
    );
}

/** /boot/grub in the tree: the host's BIOS modules and a grub.cfg booting this kernel on the serial console. */
export function addGrubFiles(tree: string, kernelVersion: string): void {
  const grubDir = join(tree, "boot/grub");
  mkdirSync(join(grubDir, "i386-pc"), { recursive: true, mode: 0o755 });
  for (const n of readdirSync(GRUB_I386_DIR))
    if (n.endsWith(".mod") || n.endsWith(".lst")) copyFileSync(join(GRUB_I386_DIR, n), join(grubDir, "i386-pc", n));
  writeFileSync(join(grubDir, "grub.cfg"), grubCfg(kernelVersion), { mode: 0o644 });
}

/**
 * Assemble `disk` (raw, `sizeGb`): a DOS partition table with one bootable Linux partition at
 * sector 2048, GRUB's boot sector in the MBR and its core image in the gap, and the ext4 root made
 * from `tree`. Loop devices with partitions are not available everywhere, so everything is written
 * with dd into the file.
 */
export async function assembleGrubDisk(tree: string, disk: string, sizeGb: number, work: string): Promise<void> {
  requireGrubPcBin();
  await runTool(["truncate", "-s", `${sizeGb}G`, disk]);
  await runTool([
    "sh",
    "-c",
    'printf "label: dos\\nstart=$2, type=83, bootable\\n" | sfdisk -q "$1"',
    "sh",
    disk,
    String(ROOT_PARTITION_START_SECTOR),
  ]);
  const partBytes = statSync(disk).size - ROOT_PARTITION_START_SECTOR * 512;
  const part = join(work, "part.raw");
  await runTool(["truncate", "-s", String(partBytes), part]);
  await runTool(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-E", "root_owner=0:0", "-d", tree, part]);
  const core = join(work, "core.img");
  await runTool([
    "grub-mkimage",
    "-O",
    "i386-pc",
    "-d",
    GRUB_I386_DIR,
    "-o",
    core,
    "-p",
    "(hd0,msdos1)/boot/grub",
    ...CORE_MODULES,
  ]);
  const coreBytes = statSync(core).size;
  if (coreBytes > (ROOT_PARTITION_START_SECTOR - 1) * 512)
    throw new BlockhostError("E_STATE", `GRUB core image is ${coreBytes} bytes: it does not fit before the partition`);
  // 440 bytes: the boot code only, keeping the partition table sfdisk wrote.
  await runTool(["dd", `if=${join(GRUB_I386_DIR, "boot.img")}`, `of=${disk}`, "bs=440", "count=1", "conv=notrunc"]);
  await runTool(["dd", `if=${core}`, `of=${disk}`, "bs=512", "seek=1", "conv=notrunc"]);
  await runTool(["dd", `if=${part}`, `of=${disk}`, "bs=1M", "seek=1", "conv=notrunc,sparse"]);
  rmSync(part, { force: true });
  rmSync(core, { force: true });
}
