import { describe, expect, test } from "bun:test";
import { cpioNewc, moduleFiles } from "../../../scripts/iso/live.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { grubConfig, unattendedWords } from "../../../scripts/iso/grub.ts";
import { controlDepends, TARGET_PACKAGES } from "../../../scripts/iso/image.ts";
import { REPO } from "../../helpers/binary.ts";

const DEP = [
  "kernel/drivers/scsi/sr_mod.ko: kernel/drivers/cdrom/cdrom.ko kernel/drivers/scsi/scsi_mod.ko",
  "kernel/drivers/cdrom/cdrom.ko:",
  "kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko",
  "kernel/drivers/scsi/scsi_common.ko:",
  "kernel/fs/overlayfs/overlay.ko.xz:",
  "",
].join("\n");

describe("the live initramfs' extra modules", () => {
  test("come dependencies first, each once, compressed names matched, built-in ones (absent) skipped", () => {
    expect(moduleFiles(DEP, ["sr_mod", "cdrom", "overlay", "loop"])).toEqual([
      "kernel/drivers/cdrom/cdrom.ko",
      "kernel/drivers/scsi/scsi_common.ko",
      "kernel/drivers/scsi/scsi_mod.ko",
      "kernel/drivers/scsi/sr_mod.ko",
      "kernel/fs/overlayfs/overlay.ko.xz",
    ]);
  });
});

describe("cpio newc", () => {
  test("holds each file after its directories, 4-byte aligned, ends with the trailer, padded to 512", () => {
    const out = cpioNewc([{ path: "lib/x/a.ko", data: new Uint8Array([1, 2, 3]), mode: 0o644 }]);
    expect(out.length % 512).toBe(0);
    const text = new TextDecoder("latin1").decode(out);
    const names = [...text.matchAll(/070701[0-9a-f]{104}([^\0]+)\0/g)].map((m) => m[1]);
    expect(names).toEqual(["lib", "lib/x", "lib/x/a.ko", "TRAILER!!!"]);
    for (const m of text.matchAll(/070701/g)) expect(m.index! % 4).toBe(0);
    const file = text.indexOf("lib/x/a.ko\0");
    const header = text.slice(file - 110, file);
    expect(Number.parseInt(header.slice(14, 22), 16)).toBe(0o100644); // mode
    expect(Number.parseInt(header.slice(54, 62), 16)).toBe(3); // size
  });
});

describe("the boot menu", () => {
  test("an unattended entry only from key=value words naming the disk", () => {
    expect(unattendedWords(" blockhost.disk=/dev/sda  blockhost.erase=yes ")).toEqual([
      "blockhost.disk=/dev/sda",
      "blockhost.erase=yes",
    ]);
    for (const bad of ["blockhost.erase=yes", 'blockhost.disk=/dev/sda"', "blockhost.disk=/dev/sda }", "x=$(y)"])
      expect(() => unattendedWords(bad)).toThrow(/--unattended/);
    const cfg = grubConfig({
      version: "1.0",
      release: "Debian 12",
      unattended: "blockhost.disk=/dev/sda blockhost.erase=yes",
    });
    expect(cfg).toContain("set default=unattended\n");
    expect(grubConfig({ version: "1.0", release: "Debian 12" })).not.toContain("blockhost.erase");
  });
});

describe("the ISO's image", () => {
  test("holds every package debian/control makes blockhost depend on", () => {
    const control = readFileSync(join(REPO, "debian/control"), "utf8");
    const depends = controlDepends(control);
    expect(depends).toEqual(expect.arrayContaining(["systemd", "iproute2", "iptables", "openssl"]));
    expect(depends.some((d) => d.startsWith("$"))).toBe(false);
    expect(TARGET_PACKAGES).toEqual(expect.arrayContaining(depends));
    expect(controlDepends("Package: x\nDepends: a (>= 1), b | c,\n d\nDescription: y\n")).toEqual(["a", "b", "d"]);
  });
});
