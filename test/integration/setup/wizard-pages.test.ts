// The wizard's host pages in headless Chromium: own public secret, detected Proxmox host, free space, VMID range.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { chromiumUnavailable, launchChromium, screenshot, type WalletPage } from "../../helpers/browser.ts";
import { adminWallet, logIn, signIn, startWizard, type RunningWizard } from "../../helpers/wizard.ts";

const why = chromiumUnavailable() ?? (anvilAvailable() ? undefined : "anvil cannot run on this platform");
if (why) console.warn(`skipping the wizard pages test: ${why}`);

let anvil: Anvil;
let browser: Browser;
let wizard: RunningWizard;
let wallet: WalletPage;

beforeAll(async () => {
  if (why) return;
  anvil = await startAnvil();
  browser = await launchChromium();
  wizard = await startWizard();
  // What pmxcfs shows on a Proxmox VE host: the wizard detects it from here.
  mkdirSync(join(wizard.root, "etc/pve"), { recursive: true });
  writeFileSync(
    join(wizard.root, "etc/pve/storage.cfg"),
    "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl\n\nlvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n",
  );
  wallet = await adminWallet(browser, anvil);
});
afterAll(async () => {
  await wallet?.close();
  await browser?.close();
  await wizard?.stop();
  await anvil?.stop();
});

test.skipIf(!!why)(
  "own public secret, Proxmox detected, free space, VMID range refused then accepted, all in the summary",
  async () => {
    const page = wallet.page;
    await logIn(page, wizard);
    expect(await page.inputValue("#public_secret")).toBe("blockhost-access");
    await page.fill("#public_secret", "ACME host 7 access");
    await signIn(page);
    expect(wallet.requests).toContain("personal_sign");
    await page.click("text=Continue");

    await page.waitForURL("**/wizard/network");
    expect(await page.textContent("#default-route")).toMatch(
      /^(Default route: via \d+\.\d+\.\d+\.\d+ on \S+\.|No default)/,
    );
    await page.fill("#hostname", "127.0.0.1");
    await page.click("button[type=submit]");
    await page.waitForURL("**/wizard/storage");
    expect(await page.locator("#free-space li").allTextContents()).toEqual([
      expect.stringMatching(/^VM templates \(libvirt\): .*\/var\/lib\/libvirt\/blockhost\/templates, \d+ GB free$/),
      expect.stringMatching(/^images to import \(Proxmox\) and state: .*\/var\/lib\/blockhost, \d+ GB free$/),
    ]);
    expect(await page.textContent("#pve-storages")).toBe("Proxmox storages holding VM disks: local-lvm");

    await page.goto(`${wizard.url}/wizard/hypervisor`);
    expect(await page.textContent("#pve-detected")).toBe(
      `Proxmox VE detected: node ${hostname().split(".")[0]}, storages holding VM disks: local-lvm.`,
    );
    expect(await page.isChecked("#backend-proxmox")).toBe(true);
    expect(await page.inputValue("#pve_node")).toBe(hostname().split(".")[0]!);
    expect(await page.inputValue("#pve_storage")).toBe("local-lvm");
    await page.fill("#bridge", "vmbr0");
    await page.fill("#vmid_start", "100");
    await page.fill("#vmid_end", "10000");
    await page.click("button[type=submit]");
    await page.waitForSelector('[role=alert]:has-text("outside the customer range 100-10000")');
    await screenshot(page, "wizard-hypervisor-error");
    // The refused form shows what was typed, not the stored defaults.
    expect(await page.inputValue("#vmid_end")).toBe("10000");
    expect(await page.inputValue("#bridge")).toBe("vmbr0");
    expect(await page.isChecked("#backend-proxmox")).toBe(true);
    await page.fill("#vmid_start", "2000");
    await page.fill("#vmid_end", "2999");
    await page.click("button[type=submit]");
    await page.waitForURL("**/wizard/ipv6");

    await page.goto(`${wizard.url}/wizard/summary`);
    const summary = await page.locator("#summary").textContent();
    // The server recovered the admin's wallet from a signature of exactly this text.
    expect(summary).toContain("public secretACME host 7 access");
    expect(summary).toContain("VM IDsstart: 2000, end: 2999");
    expect(summary).toContain('"template_vmid":9001');
    await screenshot(page, "wizard-summary-proxmox");
    expect(wallet.errors.filter((e) => !e.includes("status of 400"))).toEqual([]);
  },
  120_000,
);
