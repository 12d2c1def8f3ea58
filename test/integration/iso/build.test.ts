/**
 * `npm run iso`'s output, without installing from it (that is `npm run test:iso`): the ISO builds from Debian
 * packages and the .deb, its boot menu and kernel command lines are what the installer expects, it boots to that
 * menu on SeaBIOS and on OVMF, and its package set resolves offline against its own repository.
 * Debian 12 in `npm test`; `BLOCKHOST_ISO_SUITE=trixie` checks the Debian 13 ISO the same way (kept out of
 * `npm test`: its Debian image, built cold on a fresh CI machine, would add ~15 minutes).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildIso, type IsoResult } from "../../../scripts/iso/build.ts";
import { DEFAULT_CACHE, SUITES, type Suite } from "../../../scripts/iso/image.ts";
import { REPO } from "../../helpers/binary.ts";
import { ensureDeb } from "../../helpers/deb.ts";
import { isoUnavailable, Machine, extractIso, readManifest, sh } from "../../helpers/iso.ts";

const unavailable = isoUnavailable();
if (unavailable) console.log(`skipping the ISO build test: ${unavailable}`);
const MINUTE = 60_000;
setDefaultTimeout(3 * MINUTE);
const SUITE = (process.env.BLOCKHOST_ISO_SUITE ?? "bookworm") as Suite;
if (!(SUITE in SUITES)) throw new Error(`BLOCKHOST_ISO_SUITE: one of ${Object.keys(SUITES).join(", ")}`);
const OUT = join(REPO, `dist/iso-test-${SUITE}`);

describe.skipIf(unavailable !== undefined)(`npm run iso -- --suite ${SUITE}`, () => {
  let built: IsoResult;
  let deb: string;
  let iso: { dir: string; close: () => void };

  beforeAll(() => {
    deb = ensureDeb();
    rmSync(OUT, { recursive: true, force: true });
    built = buildIso({
      suite: SUITE,
      deb,
      output: join(OUT, "blockhost-test-amd64.iso"),
      cache: DEFAULT_CACHE,
      say: (line) => console.log(`iso: ${line}`),
    });
    const mib = (built.bytes / 2 ** 20).toFixed(0);
    const image = built.imageBuilt ? `image built in ${Math.round(built.imageSeconds)} s` : "image from the cache";
    console.log(`ISO: ${mib} MiB, built in ${Math.round(built.seconds)} s (${image})`);
    iso = extractIso(built.iso);
  }, 30 * MINUTE);

  afterAll(() => {
    iso?.close();
    rmSync(OUT, { recursive: true, force: true });
  });

  test("the ISO boots by El Torito on BIOS and on UEFI", () => {
    const report = sh(["xorriso", "-indev", built.iso, "-report_el_torito", "plain"]);
    expect(report).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y/);
    expect(report).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y/);
  });

  test("the menu's default installs interactively; no entry erases a disk without the operator", () => {
    const cfg = readFileSync(join(iso.dir, "boot/grub/grub.cfg"), "utf8");
    expect(cfg).toContain("set default=install\n");
    const linux = [...cfg.matchAll(/^\s*linux (\S+) (.*)$/gm)];
    expect(linux.map((m) => m[1])).toEqual(["/live/vmlinuz", "/live/vmlinuz"]);
    for (const [, , args] of linux) {
      expect(args!.split(" ")).toEqual(
        expect.arrayContaining(["boot=blockhost-live", "systemd.unit=blockhost-installer.target"]),
      );
      expect(args).not.toContain("blockhost.disk=");
      expect(args).not.toContain("blockhost.erase=");
    }
    // The installer asks on the last console=: the screen for the default entry, the serial port for the other.
    expect(
      linux[0]![2]!
        .split(" ")
        .filter((w) => w.startsWith("console="))
        .at(-1),
    ).toBe("console=tty0");
    expect(
      linux[1]![2]!
        .split(" ")
        .filter((w) => w.startsWith("console="))
        .at(-1),
    ).toBe("console=ttyS0,115200");
    for (const f of ["live/vmlinuz", "live/initrd.img", "blockhost/target.squashfs", "blockhost/install.sh"])
      expect(sh(["stat", "-c", "%s", join(iso.dir, f)]).trim()).not.toBe("0");
  });

  test("an --unattended build refuses words GRUB would interpret, before building anything", () => {
    const output = join(OUT, "unattended.iso");
    for (const bad of ["blockhost.disk=/dev/vda; reboot", "blockhost.disk=$(x)", "blockhost.erase=yes"])
      expect(() =>
        buildIso({ suite: SUITE, deb, output, cache: DEFAULT_CACHE, unattended: bad, say: () => {} }),
      ).toThrow(/--unattended/);
    expect(existsSync(output)).toBe(false);
  });

  test("the package set resolves offline: the image holds every dependency, the ISO's repository the .deb", () => {
    const work = mkdtempSync(join(tmpdir(), "bh-iso-apt-"));
    try {
      const status = join(work, "status");
      writeFileSync(
        status,
        sh(["unsquashfs", "-cat", join(iso.dir, "blockhost/target.squashfs"), "var/lib/dpkg/status"]),
      );
      mkdirSync(join(work, "lists/partial"), { recursive: true });
      mkdirSync(join(work, "cache/archives/partial"), { recursive: true });
      writeFileSync(join(work, "sources.list"), `deb [trusted=yes] file:${iso.dir}/pool ./\n`);
      const apt = (statusFile: string, ...args: string[]) =>
        Bun.spawnSync(
          [
            "apt-get",
            "-o",
            `Dir::State::status=${statusFile}`,
            "-o",
            `Dir::State::Lists=${work}/lists`,
            "-o",
            `Dir::State::extended_states=${work}/extended_states`,
            "-o",
            `Dir::Cache=${work}/cache`,
            "-o",
            `Dir::Etc::SourceList=${work}/sources.list`,
            "-o",
            "Dir::Etc::SourceParts=/nonexistent",
            "-o",
            "Dir::Etc::Preferences=/nonexistent",
            "-o",
            "Dir::Etc::PreferencesParts=/nonexistent",
            "-o",
            "APT::Architecture=amd64",
            "-o",
            "Acquire::Languages=none",
            "-o",
            "Debug::NoLocking=true",
            ...args,
          ],
          { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" } },
        );
      const update = apt(status, "update");
      expect(update.exitCode).toBe(0);
      const sim = apt(status, "--simulate", "--no-install-recommends", "install", "blockhost");
      const out = sim.stdout.toString();
      if (sim.exitCode !== 0) throw new Error(`apt-get --simulate install blockhost failed:\n${out}${sim.stderr}`);
      const installs = out.split("\n").filter((l) => l.startsWith("Inst "));
      expect(installs).toHaveLength(1);
      expect(installs[0]).toStartWith(`Inst blockhost (${readManifest(built.iso).blockhost.version} `);
      // The same repository on a system without the image's packages cannot install it: the check has teeth.
      const empty = join(work, "empty-status");
      writeFileSync(empty, "");
      const bare = apt(empty, "--simulate", "--no-install-recommends", "install", "blockhost");
      expect(bare.exitCode).not.toBe(0);
      expect(bare.stdout.toString() + bare.stderr.toString()).toContain("unmet dependencies");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  test("the manifest beside the ISO records its inputs: the .deb's hash, the suite's snapshot, every package", () => {
    const m = readManifest(built.iso);
    expect(m.blockhost.sha256).toBe(createHash("sha256").update(readFileSync(deb)).digest("hex"));
    expect(m.iso_sha256).toBe(sh(["sha256sum", built.iso]).split(" ")[0]!);
    expect(m.debian.suite).toBe(SUITE);
    expect(Object.keys(m.debian.snapshot)).toEqual(
      expect.arrayContaining([SUITE, `${SUITE}-updates`, `${SUITE}-security`]),
    );
    for (const p of ["linux-image-amd64", "grub-pc", "grub-efi-amd64-bin", "libvirt-daemon-system", "qemu-system-x86"])
      expect(m.packages[p]).toMatch(/^\d/);
    expect(m.packages.blockhost).toBeUndefined(); // installed from the ISO's repository, per disk
    expect(readFileSync(join(iso.dir, "blockhost/manifest.json"), "utf8")).toContain(m.blockhost.sha256);
  });

  for (const firmware of ["bios", "uefi"] as const)
    test(`${firmware === "bios" ? "SeaBIOS" : "OVMF"} boots the ISO to its menu on the serial console`, async () => {
      const vm = Machine.start({ firmware, cdrom: built.iso, memoryMiB: 512 });
      try {
        const entry = new RegExp(`Install BlockHost \\S+ on ${SUITES[SUITE]} \\(serial console ttyS0\\)`);
        await vm.waitFor(entry, 2 * MINUTE, "the GRUB menu");
      } finally {
        await vm.stop();
      }
    });
});
