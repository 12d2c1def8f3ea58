/** The setup wizard end to end in headless Chromium with an injected EIP-1193 wallet backed by an anvil key. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { Hex } from "viem";
import { parse } from "yaml";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { chromiumUnavailable, launchChromium, screenshot, type WalletPage } from "../../helpers/browser.ts";
import { devnet } from "../../helpers/contracts.ts";
import { deployTestStablecoin } from "../../helpers/setup-host.ts";
import { adminWallet, logIn, signIn, startWizard, type RunningWizard } from "../../helpers/wizard.ts";

const why = chromiumUnavailable() ?? (anvilAvailable() ? undefined : "anvil cannot run on this platform");
if (why) console.warn(`skipping the wizard browser test: ${why}`);

let anvil: Anvil;
let browser: Browser;
let stablecoin: Hex;
const wizards: RunningWizard[] = [];
const pages: WalletPage[] = [];

beforeAll(async () => {
  if (why) return;
  anvil = await startAnvil();
  stablecoin = await deployTestStablecoin(anvil);
  browser = await launchChromium();
});
afterAll(async () => {
  for (const p of pages) await p.close();
  await browser?.close();
  for (const w of wizards) await w.stop();
  await anvil?.stop();
});

async function openWizard(): Promise<{ wizard: RunningWizard; page: Page; wallet: WalletPage }> {
  const wizard = await startWizard();
  wizards.push(wizard);
  const wallet = await adminWallet(browser, anvil);
  pages.push(wallet);
  const page = wallet.page;
  await logIn(page, wizard);
  await signIn(page);
  return { wizard, page, wallet };
}

const submit = async (page: Page, next: string) => {
  await page.click("button[type=submit]");
  await page.waitForURL(`**/wizard/${next}`);
};

const summaryText = (page: Page) => page.locator("#summary").textContent();

test.skipIf(!!why)(
  "wizard end to end in Chromium: OTP, wallet, every step, finalize, backup, restore in a fresh wizard",
  async () => {
    const { wizard, page, wallet } = await openWizard();
    await page.click("text=Continue");
    await page.waitForURL("**/wizard/network");
    await page.fill("#hostname", "127.0.0.1");
    await submit(page, "storage");
    await submit(page, "blockchain");

    await page.fill("#chain_id", String(anvil.chainId));
    await page.fill("#rpc_url", anvil.rpcUrl);
    await page.click("#rpc-check");
    await page.waitForSelector(`#status:has-text("answers for chain ${anvil.chainId}")`);
    await page.fill("#fund_amount", "2");
    await page.click("#fund");
    await page.waitForSelector('#status:has-text("Sent 2 ETH to the deployer")');
    await page.waitForSelector('#deployer-balance:has-text("2")', { timeout: 15_000 });
    await page.fill("#stablecoin", stablecoin);
    await page.fill("#plan_name", "Small VM");
    await page.fill("#plan_price_cents", "150");
    await submit(page, "hypervisor");
    await submit(page, "ipv6");
    await submit(page, "admin-commands");
    await page.check("#enabled");
    await submit(page, "summary");
    const summary = await summaryText(page);
    expect(summary).toContain("Small VM");
    await screenshot(page, "wizard-summary");
    // Usable on a phone: at 360 px nothing makes the page scroll sideways.
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, "wizard-summary-360px");
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.click("#confirm");
    await page.waitForSelector("#finalize-done:not([hidden])", { timeout: 120_000 });
    expect(await page.locator('#progress li[data-state="done"]').count()).toBe(12);
    await screenshot(page, "wizard-finalized");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const backup = join(wizard.root, "blockhost-config.enc");
    await download.saveAs(backup);
    expect(readFileSync(backup, "utf8")).toMatch(/^0x[0-9a-f]+$/);
    expect(wallet.requests).toContain("eth_sendTransaction");
    expect(wallet.errors).toEqual([]);

    // What the operator would check: the host is set up, NFT #0 is the admin's, the plan sells the chosen size.
    expect(existsSync(join(wizard.root, "var/lib/blockhost-agent/setup-complete"))).toBe(true);
    expect(existsSync(join(wizard.root, "var/lib/blockhost/wizard-deployer.key"))).toBe(false);
    const web3 = parse(readFileSync(join(wizard.root, "etc/blockhost/web3-defaults.yaml"), "utf8"));
    const owner = await devnet(anvil).pub.readContract({
      address: web3.blockchain.nft_contract,
      abi: accessCredentialNftAbi,
      functionName: "ownerOf",
      args: [0n],
    });
    expect(owner).toBe(wallet.address);
    const commands = JSON.parse(readFileSync(join(wizard.root, "etc/blockhost/admin-commands.json"), "utf8"));
    expect(Object.values(commands.commands)).toEqual([
      {
        action: "knock",
        description: "open ports for the admin",
        params: { allowed_ports: [22], default_duration: 300 },
      },
    ]);

    // A fresh wizard on another host: the same wallet restores the backup to the same summary.
    const fresh = await openWizard();
    await fresh.page.setInputFiles("#backup", backup);
    await fresh.page.click("#restore");
    await fresh.page.waitForURL("**/wizard/summary");
    expect(await summaryText(fresh.page)).toBe(summary);
  },
  240_000,
);
