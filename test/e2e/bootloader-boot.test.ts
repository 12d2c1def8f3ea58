// The bootloader template (what Proxmox imports) really boots: SeaBIOS → GRUB → kernel → login prompt, under QEMU TCG.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GRUB_I386_DIR } from "../../src/template/bootloader.ts";
import { kernelPath } from "../../src/core/template/manifest.ts";
import type { CachedTemplate } from "../../src/template/cache.ts";
import { TEMPLATE_CACHE, cachedBootloaderTemplate } from "../helpers/libvirt-host.ts";

setDefaultTimeout(30 * 60_000); // TCG on a shared 2-core machine

const DISK_GB = 4; // bigger than the image's 3 GiB: the first boot must grow the root partition and filesystem to it

function unavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of ["/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-img", "/usr/bin/genisoimage"])
    if (!existsSync(bin)) return `${bin} is missing`;
  if (!existsSync(join(GRUB_I386_DIR, "boot.img"))) return "grub-pc-bin is not installed";
  return undefined;
}
const unavailable = unavailableReason();
if (unavailable) console.log(`skip: bootloader boot test: ${unavailable}`);

const run = (argv: string[]) => {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
};

describe.skipIf(Boolean(unavailable))("the bootloader template boots from its own disk", () => {
  let tpl: CachedTemplate;
  let dir: string;
  let qemu: Bun.Subprocess<"pipe", "ignore", "ignore"> | undefined;
  const consoleLog = () => (existsSync(join(dir, "console.log")) ? readFileSync(join(dir, "console.log"), "utf8") : "");

  beforeAll(async () => {
    mkdirSync(TEMPLATE_CACHE, { recursive: true });
    tpl = await cachedBootloaderTemplate();
    console.log(
      `bootloader template ${tpl.image} (${tpl.builtNow ? `built in ${tpl.seconds.toFixed(1)} s` : "cached"})`,
    );
    dir = mkdtempSync(join("/var/tmp", "blockhost-grubboot-"));
    run([
      "qemu-img",
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      tpl.image,
      "-F",
      "qcow2",
      join(dir, "disk.qcow2"),
      `${DISK_GB}G`,
    ]);
    mkdirSync(join(dir, "seed"));
    writeFileSync(join(dir, "seed/user-data"), "#cloud-config\nhostname: grubboot\n");
    writeFileSync(join(dir, "seed/meta-data"), "instance-id: grubboot-1\nlocal-hostname: grubboot\n");
    run([
      "genisoimage",
      "-quiet",
      "-o",
      join(dir, "seed.iso"),
      "-V",
      "cidata",
      "-J",
      "-r",
      join(dir, "seed/user-data"),
      join(dir, "seed/meta-data"),
    ]);
  });
  afterAll(() => {
    qemu?.kill("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the image is the bootloader variant: no kernel beside it, GRUB in its manifest", () => {
    expect(tpl.manifest.boot.mode).toBe("bootloader");
    expect(tpl.manifest.packages).toContain("fdisk"); // sfdisk: the first boot grows the root partition
    expect(tpl.manifest.packages).not.toContain("cloud-init");
    expect(existsSync(kernelPath(tpl.image))).toBe(false);
    const table = JSON.parse(run(["qemu-img", "info", "--output=json", tpl.image]));
    expect(table.format).toBe("qcow2");
  });

  test("SeaBIOS → GRUB → kernel → systemd → login prompt on the serial console (no -kernel given)", async () => {
    const started = performance.now();
    qemu = Bun.spawn(
      [
        "qemu-system-x86_64",
        "-accel",
        "tcg,tb-size=256",
        "-cpu",
        "max",
        "-m",
        "1024",
        "-smp",
        "1",
        "-display",
        "none",
        "-nodefaults",
        "-no-reboot",
        "-serial",
        `file:${join(dir, "console.log")}`,
        "-drive",
        `file=${join(dir, "disk.qcow2")},if=virtio,format=qcow2`,
        "-drive",
        `file=${join(dir, "seed.iso")},if=virtio,format=raw,readonly=on`,
        "-monitor",
        "stdio",
      ],
      { stdin: "pipe", stdout: "ignore", stderr: "ignore" },
    );
    const deadline = Date.now() + 25 * 60_000;
    while (!/login: /.test(consoleLog())) {
      if (qemu.exitCode !== null)
        throw new Error(`qemu exited ${qemu.exitCode}; console:\n${consoleLog().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no login prompt in 25 min; console:\n${consoleLog().slice(-2000)}`);
      await Bun.sleep(2000);
    }
    console.log(`bootloader image: firmware → login prompt in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const log = consoleLog();
    expect(log).toContain("Booting `Debian (blockhost template)'"); // GRUB's menu entry
    expect(log).toMatch(/Command line: BOOT_IMAGE=\/boot\/vmlinuz-\S+ root=LABEL=rootfs ro console=ttyS0/);
    expect(log).toMatch(/grubboot login: /); // the hostname the first boot set from the seed
    expect(log).toContain("blockhost-firstboot: configuring new instance grubboot-1 from /dev/vdb");
  });

  test("the first boot grew the root partition and filesystem to the whole disk", async () => {
    // Power off cleanly (ACPI), then read the overlay's partition table and ext4 superblock.
    const monitor = qemu!.stdin;
    monitor.write("system_powerdown\n");
    await monitor.flush();
    const exited = await Promise.race([qemu!.exited, Bun.sleep(180_000).then(() => "timeout")]);
    if (exited === "timeout") qemu!.kill("SIGKILL");
    await qemu!.exited;
    const raw = join(dir, "disk.raw");
    run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", join(dir, "disk.qcow2"), raw]);
    const part = JSON.parse(run(["sfdisk", "--json", raw])).partitiontable.partitions[0];
    expect(part).toMatchObject({ start: 2048, bootable: true });
    // Up to 64 sectors may stay free at the end of the disk (room a GPT backup header would need).
    const diskSectors = (DISK_GB * 2 ** 30) / 512;
    expect(part.size).toBeGreaterThanOrEqual(diskSectors - 2048 - 64);
    expect(part.size).toBeLessThanOrEqual(diskSectors - 2048);
    const fs = run(["dumpe2fs", "-h", `${raw}?offset=1048576`]);
    const fsBytes = Number(/Block count:\s+(\d+)/.exec(fs)?.[1]) * Number(/Block size:\s+(\d+)/.exec(fs)?.[1]);
    expect(fsBytes).toBeLessThanOrEqual(part.size * 512);
    expect(fsBytes).toBeGreaterThan(part.size * 512 - 8192);
  });
});
