/**
 * `npm run test:iso` (not part of `npm test`: a full install under TCG takes many minutes): QEMU boots the ISO
 * unattended on a blank disk with no network at all (user-mode networking restricted to the test's port forward),
 * the installer erases that disk and installs, the machine reboots from it, and the wizard answers over HTTPS on
 * 443 (forwarded to a loopback port) to the one-time code shown on the serial console, presenting the certificate
 * whose fingerprint the console shows. Then the same disk boots under OVMF (the UEFI boot loader the installer put
 * there) to the same wizard. `BLOCKHOST_ISO_SUITE=trixie npm run test:iso` installs Debian 13 instead of 12.
 * After a failure the disk and ISO stay in dist/iso-install-<pid>/ for a post-mortem (the path is printed).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { join } from "node:path";
import { buildIso, type IsoResult } from "../../scripts/iso/build.ts";
import { DEFAULT_CACHE, SUITES, type Suite } from "../../scripts/iso/image.ts";
import { REPO } from "../helpers/binary.ts";
import { ensureDeb } from "../helpers/deb.ts";
import { blankDisk, freePort, isoUnavailable, Machine } from "../helpers/iso.ts";

const unavailable = isoUnavailable();
if (unavailable) console.log(`skipping the ISO install test: ${unavailable}`);
const SUITE = (process.env.BLOCKHOST_ISO_SUITE ?? "bookworm") as Suite;
if (!(SUITE in SUITES)) throw new Error(`BLOCKHOST_ISO_SUITE: one of ${Object.keys(SUITES).join(", ")}`);
const MINUTE = 60_000;
setDefaultTimeout(10 * MINUTE);
const OUT = join(REPO, `dist/iso-install-${process.pid}`);
/** The wizard's console lines (src/web/wizard/command.ts consoleLines): URL, certificate fingerprint, code. */
const WIZARD =
  /((?:URL: https:\/\/\S+\n)+)Certificate SHA-256: ([0-9A-F]{2}(?::[0-9A-F]{2}){31})\nCode: ([A-Z2-9]{6})\b/;
const times: Record<string, number> = {};
let failed = false;
/** The serial console of each boot, kept under test-results/ for a failure's post-mortem. */
function serialLog(name: string): string {
  mkdirSync(join(REPO, "test-results"), { recursive: true });
  const path = join(REPO, `test-results/iso-install-${SUITE}-${name}.serial.log`);
  rmSync(path, { force: true });
  return path;
}

/** The wizard's login through the forwarded port, over HTTPS (its certificate is self-signed: checked by fingerprint). */
function wizardLogin(port: number, code: string): Promise<Response> {
  const base = `https://127.0.0.1:${port}`;
  return fetch(`${base}/login`, {
    method: "POST",
    body: new URLSearchParams({ otp: code }),
    headers: { origin: base },
    redirect: "manual",
    tls: { rejectUnauthorized: false },
  });
}

/** The SHA-256 fingerprint of the certificate the TLS handshake on `port` presents. */
function presentedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

async function waitForWizard(port: number): Promise<void> {
  const deadline = Date.now() + 5 * MINUTE;
  while (Date.now() < deadline) {
    const ok = await fetch(`https://127.0.0.1:${port}/login`, { tls: { rejectUnauthorized: false } }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await Bun.sleep(2000);
  }
  throw new Error("the wizard did not answer over HTTPS on the forwarded port");
}

describe.skipIf(unavailable !== undefined)(`install ${SUITES[SUITE]} from the ISO on a blank disk (QEMU, TCG)`, () => {
  let built: IsoResult;
  let disk: string;
  let code = "";
  let fingerprint = "";
  const https = freePort();

  beforeAll(() => {
    const t = performance.now();
    built = buildIso({
      suite: SUITE,
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
    if (failed) console.log(`ISO install test failed: disk and ISO kept in ${OUT}`);
    else rmSync(OUT, { recursive: true, force: true });
    const round = (_: string, v: unknown) => (typeof v === "number" ? Math.round(v) : v);
    console.log(`ISO install figures: ${JSON.stringify(times, round)}`);
  });

  test(
    "SeaBIOS: the unattended install completes offline, reboots from the disk, and the wizard takes the console's code over HTTPS",
    async () => {
      const vm = Machine.start({
        firmware: "bios",
        cdrom: built.iso,
        disk,
        cdromOnce: true,
        forward: { 443: https },
        log: serialLog("bios"),
      });
      try {
        const t = performance.now();
        const done = await vm.waitFor(
          /blockhost-installer: BLOCKHOST-INSTALL-COMPLETE on \/dev\/vda/,
          60 * MINUTE,
          "the install",
        );
        times.install_s = (performance.now() - t) / 1000;
        console.log(
          vm.console
            .split("\n")
            .filter((l) => l.includes("blockhost-installer:"))
            .join("\n"),
        );
        // The reboot follows at once (the console may already hold GRUB's menu): mark the end of the line.
        const rebooted = done.index + done[0].length;
        const t2 = performance.now();
        const shown = await vm.waitFor(
          WIZARD,
          30 * MINUTE,
          "the wizard's URL, fingerprint and code after the reboot",
          rebooted,
        );
        times.first_boot_s = (performance.now() - t2) / 1000;
        [, , fingerprint, code] = shown as unknown as [string, string, string, string];
        const firstBoot = vm.console.slice(rebooted);
        expect(firstBoot).not.toContain("blockhost-installer"); // booted the disk, not the CD again
        expect(firstBoot).toContain("GNU GRUB"); // the installed boot loader's menu reached the serial console
        expect(shown[1]).toContain("URL: https://10.0.2.15/\n"); // the DHCP address QEMU's user network gives the guest
        await waitForWizard(https);
        expect(await presentedFingerprint(https)).toBe(fingerprint);
        const wrong = await wizardLogin(https, code === "AAAAAA" ? "BBBBBB" : "AAAAAA");
        expect(wrong.status).toBe(401);
        // The wizard backs off after a wrong code: the right one is checked once the wait it names has passed.
        let right = await wizardLogin(https, code);
        for (let i = 0; right.status === 429 && i < 5; i++) {
          await Bun.sleep(1000 * Number(right.headers.get("retry-after") ?? "1"));
          right = await wizardLogin(https, code);
        }
        expect(right.status).toBe(303);
        expect(right.headers.get("location")).toBe("/wizard/wallet");
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        await vm.stop();
      }
    },
    120 * MINUTE,
  );

  test(
    "OVMF boots the installed disk (its UEFI loader) to the wizard, its console lines true to its TLS and code",
    async () => {
      expect(code).not.toBe("");
      const vm = Machine.start({ firmware: "uefi", disk, forward: { 443: https }, log: serialLog("uefi") });
      try {
        const t = performance.now();
        const shown = await vm.waitFor(WIZARD, 30 * MINUTE, "the wizard's code on the console under OVMF");
        times.uefi_boot_s = (performance.now() - t) / 1000;
        // The SeaBIOS machine was stopped by a power cut (QEMU killed) seconds after the wizard wrote its code and
        // certificate, which it does not fsync: the code may be a new one. What the console shows must hold.
        expect(shown[1]).toContain("URL: https://10.0.2.15/\n");
        await waitForWizard(https);
        expect(await presentedFingerprint(https)).toBe(shown[2]!);
        expect((await wizardLogin(https, shown[3]!)).status).toBe(303);
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        await vm.stop();
      }
    },
    40 * MINUTE,
  );
});
