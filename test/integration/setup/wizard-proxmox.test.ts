// The wizard finalizing a Proxmox host in Chromium: the template import's progress arrives by SSE (qm SIMULATOR, real agent).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { sealDraft } from "../../../src/web/wizard/backup.ts";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { chromiumUnavailable, launchChromium, screenshot, type WalletPage } from "../../helpers/browser.ts";
import {
  canCreateNetns,
  hostBridge,
  startProxmoxHost,
  writeProxmoxSetupFiles,
  type ProxmoxHost,
} from "../../helpers/proxmox-host.ts";
import { deployTestStablecoin, SETUP_ACCOUNT } from "../../helpers/setup-host.ts";
import { adminWallet, logIn, signIn, startWizard, type RunningWizard } from "../../helpers/wizard.ts";

const why =
  chromiumUnavailable() ??
  (anvilAvailable() ? undefined : "anvil cannot run on this platform") ??
  (canCreateNetns() ? undefined : "needs root and iproute2 (a test bridge, network namespaces)");
if (why) console.warn(`skipping the wizard Proxmox test: ${why}`);

let anvil: Anvil;
let browser: Browser;
let wizard: RunningWizard;
let px: ProxmoxHost;
let wallet: WalletPage;
let bridge: ReturnType<typeof hostBridge>;

beforeAll(async () => {
  if (why) return;
  anvil = await startAnvil();
  browser = await launchChromium();
  wizard = await startWizard(async (root) => {
    px = await startProxmoxHost(root);
    return px.agent;
  });
  bridge = hostBridge("bhwp");
  writeProxmoxSetupFiles(wizard.root);
  wallet = await adminWallet(browser, anvil);
});
afterAll(async () => {
  await wallet?.close();
  await browser?.close();
  await wizard?.stop();
  await px?.stop();
  bridge?.remove();
  await anvil?.stop();
});

test.skipIf(!!why)(
  "a restored Proxmox configuration: confirm, the template is imported, its progress shown live by SSE",
  async () => {
    const admin = privateKeyToAccount(anvil.accounts[SETUP_ACCOUNT.admin]!.privateKey);
    const signature = await admin.signMessage({ message: "blockhost-access" });
    const backup = join(wizard.root, "blockhost-config.enc");
    writeFileSync(
      backup,
      sealDraft(
        {
          admin: { wallet: admin.address, public_secret: "blockhost-access", signature },
          network: {
            ipv4: { network: "192.168.122.0/24", start: 200, end: 250, gateway: "192.168.122.1" },
            ipv6: "none",
            vmid_range: { start: 2000, end: 2999 },
            gc_grace_days: 7,
          },
          https: { hostname: "127.0.0.1" },
          chain: {
            chain_id: anvil.chainId,
            rpc_url: anvil.rpcUrl,
            contracts: "deploy",
            stablecoin: await deployTestStablecoin(anvil),
            confirmations: 0,
          },
          deployer_key: anvil.accounts[SETUP_ACCOUNT.deployer]!.privateKey.slice(2),
          plan: { name: "Basic", price_cents_per_day: 100, cpu: 1, memory_mb: 2048, disk_gb: 20 },
          revenue_share: { enabled: false, percent: 1 },
          backend: { proxmox: { node: "pve", storage: "local-lvm", bridge: bridge.name, template_vmid: 9600 } },
          admin_commands: "none",
        },
        signature,
      ),
    );
    const page = wallet.page;
    const urls: string[] = [];
    page.on("request", (r) => urls.push(new URL(r.url()).pathname));
    await logIn(page, wizard);
    await signIn(page);
    await page.setInputFiles("#backup", backup);
    await page.click("#restore");
    await page.waitForURL("**/wizard/summary");
    expect(await page.locator("#summary").textContent()).toContain("VM IDsstart: 2000, end: 2999");

    // The hypervisor page checks this host as entered: the template VMID is free, so the template step will import.
    await page.goto(`${wizard.url}/wizard/hypervisor`);
    await page.click("#hypervisor-check");
    await page.waitForSelector('#status:has-text("This host is ready for the hypervisor as entered.")');
    expect(await page.locator("#hypervisor-findings li").allTextContents()).toEqual([
      "backend: proxmox",
      `bridge: ${bridge.name}`,
      "storage: storage local-lvm: lvmthin, holds VM disks",
      "template_vmid: 9600",
      "template: to import",
    ]);
    await page.goto(`${wizard.url}/wizard/summary`);
    await page.waitForLoadState("networkidle");
    const before = urls.length;
    await page.click("#confirm");
    await page.waitForSelector("#finalize-done:not([hidden])", { timeout: 120_000 });
    expect(await page.locator('#progress li[data-state="done"]').count()).toBe(12);
    expect(await page.textContent('#progress li[data-step="template"]')).toBe(
      "VM template: done — converting VMID 9600 to a template",
    );
    await screenshot(page, "wizard-proxmox-finalized");
    // Progress came by server-sent events, not by polling the status route.
    const during = urls.slice(before);
    expect(during).toContain("/api/finalize/events");
    expect(during).not.toContain("/api/finalize/status");
    expect(px.sim.vm(9600)).toMatchObject({ template: true, config: { net0: `virtio,bridge=${bridge.name}` } });
    expect(wallet.errors).toEqual([]);
  },
  180_000,
);
