/** The GRUB-bootable disk assembly: partition table, boot sector, core image, ext4 root at 1 MiB, manifest section. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GRUB_I386_DIR,
  addGrubFiles,
  assembleGrubDisk,
  bootloaderBootSection,
} from "../../../src/template/bootloader.ts";
import { directKernelProblem, manifestSchema } from "../../../src/core/template/manifest.ts";
import { KERNEL_CMDLINE } from "../../../src/core/template/boot.ts";
import { proxmoxManifestProblems } from "../../../src/provision/backends/proxmox-template.ts";
import { VM_AUTH_FILES } from "../../../src/vmauth/files/index.ts";
import { runBlockhost } from "../../helpers/binary.ts";

const hasGrub = existsSync(join(GRUB_I386_DIR, "boot.img")) && process.getuid?.() === 0;
if (!hasGrub) console.log(`skip: the GRUB disk tests need root and grub-pc-bin (${GRUB_I386_DIR}/boot.img)`);

const run = (argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
};
const bytesAt = (file: string, offset: number, length: number) => {
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, offset);
  return buf;
};

describe.skipIf(!hasGrub)("GRUB-bootable template disk", () => {
  let dir: string;
  let disk: string;
  const version = "6.1.0-99-amd64";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "blockhost-grubdisk-"));
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "boot"), { recursive: true });
    writeFileSync(join(tree, "boot", `vmlinuz-${version}`), "kernel");
    writeFileSync(join(tree, "boot", `initrd.img-${version}`), "initrd");
    addGrubFiles(tree, version);
    disk = join(dir, "disk.raw");
    await assembleGrubDisk(tree, disk, 1, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("one bootable Linux partition at 1 MiB filling the disk, in a DOS table", () => {
    expect(statSync(disk).size).toBe(2 ** 30);
    const table = JSON.parse(run(["sfdisk", "--json", disk])).partitiontable;
    expect(table.label).toBe("dos");
    expect(table.partitions).toHaveLength(1);
    expect(table.partitions[0]).toMatchObject({ start: 2048, size: 2 ** 30 / 512 - 2048, type: "83", bootable: true });
  });

  test("the MBR carries GRUB's boot code and the 55AA signature; GRUB's core image follows it", () => {
    const mbr = bytesAt(disk, 0, 512);
    expect(mbr.subarray(0, 440).equals(readFileSync(join(GRUB_I386_DIR, "boot.img")).subarray(0, 440))).toBe(true);
    expect(mbr[510]).toBe(0x55);
    expect(mbr[511]).toBe(0xaa);
    // core.img starts with diskboot.img (its block list at the end is filled in by grub-mkimage).
    const diskboot = readFileSync(join(GRUB_I386_DIR, "diskboot.img"));
    expect(bytesAt(disk, 512, 256).equals(diskboot.subarray(0, 256))).toBe(true);
  });

  test("the partition is the ext4 root labelled rootfs, holding grub.cfg, the modules and the kernel", () => {
    const probe = run(["blkid", "-p", "-O", "1048576", "-o", "export", disk]);
    expect(probe).toContain("LABEL=rootfs");
    expect(probe).toContain("TYPE=ext4");
    const at = `${disk}?offset=1048576`;
    const cfg = run(["debugfs", "-R", "cat /boot/grub/grub.cfg", at]);
    expect(cfg).toContain(`linux /boot/vmlinuz-${version} ${KERNEL_CMDLINE}`);
    expect(cfg).toContain(`initrd /boot/initrd.img-${version}`);
    expect(cfg).toContain("search --no-floppy --label --set=root rootfs");
    const mods = run(["debugfs", "-R", "ls -p /boot/grub/i386-pc", at]);
    for (const m of ["normal.mod", "linux.mod", "ext2.mod"]) expect(mods).toContain(`/${m}/`);
    const fs = run(["dumpe2fs", "-h", at]);
    const blocks = Number(/Block count:\s+(\d+)/.exec(fs)?.[1]);
    const blockSize = Number(/Block size:\s+(\d+)/.exec(fs)?.[1]);
    expect(blocks * blockSize).toBe(2 ** 30 - 1048576);
  });

  test("the manifest's boot section validates, and the Proxmox import accepts it", () => {
    const boot = bootloaderBootSection();
    const manifest = {
      format: 1,
      image: "t.qcow2",
      sha256: "a".repeat(64),
      size_bytes: 1,
      virtual_size_gb: 1,
      built_at: "2026-12-01T23:00:00Z",
      build_seconds: 1,
      inputs_sha256: "b".repeat(64),
      debian_suite: "bookworm",
      apt_sources: ["deb http://deb.debian.org/debian bookworm main"],
      packages: ["cloud-init", "cloud-guest-utils"],
      blockhost_binary: "/usr/local/bin/blockhost",
      blockhost_binary_sha256: "c".repeat(64),
      vmauth_files: VM_AUTH_FILES.map((f) => f.path),
      cloud_init: true,
      qemu_guest_agent: true,
      boot,
    };
    expect(manifestSchema.parse(manifest).boot).toEqual(boot);
    expect(directKernelProblem(manifestSchema.parse(manifest))).toBe(
      "template t.qcow2 is a bootloader image (for Proxmox); libvirt boots the direct-kernel one " +
        "(blockhost template build without --boot bootloader)",
    );
    expect(proxmoxManifestProblems(manifestSchema.parse(manifest))).toEqual([]);
    expect(() => manifestSchema.parse({ ...manifest, boot: { ...boot, bootloader: "uefi" } })).toThrow();
  });
});

describe.skipIf(process.getuid?.() !== 0)("blockhost template build --boot", () => {
  test("an unknown boot mode is a usage error naming both modes, before anything is built", async () => {
    const out = join(tmpdir(), `blockhost-bootmode-${process.pid}.qcow2`);
    const r = await runBlockhost(["template", "build", "--boot", "uefi", "--output", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--boot: expected direct-kernel or bootloader, got "uefi"');
    expect(existsSync(out)).toBe(false);
  });
});
