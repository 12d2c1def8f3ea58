/**
 * `npm run test:iso` (not part of `npm test`: a full install under TCG takes many minutes): QEMU boots the ISO
 * unattended on a blank disk with no network at all (user-mode networking restricted to the test's port forwards),
 * the installer erases that disk and installs, the machine reboots from it, and the wizard answers on its port to
 * the one-time code shown on the serial console. Then the same disk boots under OVMF (the UEFI boot loader the
 * installer put there) to the same wizard.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildIso, type IsoResult } from "../../scripts/iso/build.ts";
import { DEFAULT_CACHE } from "../../scripts/iso/image.ts";
import { REPO } from "../helpers/binary.ts";
import { ensureDeb } from "../helpers/deb.ts";
import { blankDisk, freePort, isoUnavailable, Machine } from "../helpers/iso.ts";

const unavailable = isoUnavailable();
if (unavailable) console.log(`skipping the ISO install test: ${unavailable}`);
const MINUTE = 60_000;
setDefaultTimeout(10 * MINUTE);
const OUT = join(REPO, `dist/iso-install-${process.pid}`);
const CODE = /(?:One-time code|Code): ([A-Z2-9]{6})\b/;
const times: Record<string, number> = {};
/** The serial console of each boot, kept under test-results/ for a failure's post-mortem. */
function serialLog(name: string): string {
  mkdirSync(join(REPO, "test-results"), { recursive: true });
  const path = join(REPO, `test-results/iso-install-${name}.serial.log`);
  rmSync(path, { force: true });
  return path;
}

/** The wizard through the forwarded port, over HTTPS when it serves TLS from first boot, else plain HTTP. */
async function wizardLogin(ports: { http: number; https: number }, code: string): Promise<Response> {
  const post = (base: string) =>
    fetch(`${base}/login`, {
      method: "POST",
      body: new URLSearchParams({ otp: code }),
      headers: { origin: base },
      redirect: "manual",
      tls: { rejectUnauthorized: false },
    });
  return post(`https://127.0.0.1:${ports.https}`).catch(() => post(`http://127.0.0.1:${ports.http}`));
}

async function waitForWizard(ports: { http: number; https: number }): Promise<void> {
  const deadline = Date.now() + 5 * MINUTE;
  while (Date.now() < deadline) {
    for (const base of [`https://127.0.0.1:${ports.https}`, `http://127.0.0.1:${ports.http}`]) {
      const ok = await fetch(`${base}/login`, { tls: { rejectUnauthorized: false } }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
    }
    await Bun.sleep(2000);
  }
  throw new Error("the wizard did not answer on the forwarded ports");
}

describe.skipIf(unavailable !== undefined)("install from the ISO on a blank disk (QEMU, TCG)", () => {
  let built: IsoResult;
  let disk: string;
  let code = "";
  const ports = { http: freePort(), https: freePort() };

  beforeAll(() => {
    const t = performance.now();
    built = buildIso({
      suite: "bookworm",
      deb: ensureDeb(),
      output: join(OUT, "blockhost-unattended-amd64.iso"),
      cache: DEFAULT_CACHE,
      unattended: "blockhost.disk=/dev/vda blockhost.erase=yes",
      say: (line) => console.log(`iso: ${line}`),
    });
    times.iso_build_s = (performance.now() - t) / 1000;
    times.iso_mib = built.bytes / 2 ** 20;
    disk = blankDisk(OUT, 12);
  }, 40 * MINUTE);

  afterAll(() => {
    rmSync(OUT, { recursive: true, force: true });
    const round = (_: string, v: unknown) => (typeof v === "number" ? Math.round(v) : v);
    console.log(`ISO install figures: ${JSON.stringify(times, round)}`);
  });

  test(
    "SeaBIOS: the unattended install completes offline, reboots from the disk, and the wizard takes the console's code",
    async () => {
      const vm = Machine.start({
        firmware: "bios",
        cdrom: built.iso,
        disk,
        cdromOnce: true,
        forward: { 80: ports.http, 443: ports.https },
        log: serialLog("bios"),
      });
      try {
        const t = performance.now();
        await vm.waitFor(/blockhost-installer: BLOCKHOST-INSTALL-COMPLETE on \/dev\/vda/, 45 * MINUTE, "the install");
        times.install_s = (performance.now() - t) / 1000;
        console.log(
          vm.console
            .split("\n")
            .filter((l) => l.includes("blockhost-installer:"))
            .join("\n"),
        );
        const rebooted = vm.mark();
        const t2 = performance.now();
        code = (await vm.waitFor(CODE, 30 * MINUTE, "the wizard's code on the console after the reboot", rebooted))[1]!;
        times.first_boot_s = (performance.now() - t2) / 1000;
        const firstBoot = vm.console.slice(rebooted);
        expect(firstBoot).not.toContain("blockhost-installer"); // booted the disk, not the CD again
        expect(firstBoot).toMatch(/https?:\/\/\S+/);
        await waitForWizard(ports);
        const wrong = await wizardLogin(ports, code === "AAAAAA" ? "BBBBBB" : "AAAAAA");
        expect(wrong.status).toBe(401);
        // The wizard backs off after a wrong code: the right one is checked once the wait it names has passed.
        let right = await wizardLogin(ports, code);
        for (let i = 0; right.status === 429 && i < 5; i++) {
          await Bun.sleep(1000 * Number(right.headers.get("retry-after") ?? "1"));
          right = await wizardLogin(ports, code);
        }
        expect(right.status).toBe(303);
        expect(right.headers.get("location")).toBe("/wizard/wallet");
      } finally {
        await vm.stop();
      }
    },
    90 * MINUTE,
  );

  test(
    "OVMF boots the installed disk (its UEFI loader) to the same wizard and code",
    async () => {
      expect(code).not.toBe("");
      const vm = Machine.start({
        firmware: "uefi",
        disk,
        forward: { 80: ports.http, 443: ports.https },
        log: serialLog("uefi"),
      });
      try {
        const t = performance.now();
        const shown = await vm.waitFor(CODE, 15 * MINUTE, "the wizard's code on the console under OVMF");
        times.uefi_boot_s = (performance.now() - t) / 1000;
        expect(shown[1]).toBe(code);
        await waitForWizard(ports);
      } finally {
        await vm.stop();
      }
    },
    20 * MINUTE,
  );
});
