/** "My servers" in Chromium with an injected wallet, against anvil, the engine (dry-run backend) and `blockhost serve`. */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { chromiumUnavailable, launchChromium, screenshot, walletPage, type WalletPage } from "../../helpers/browser.ts";
import { EngineEnv, type EngineProcess, OWNER, type VmJson } from "../../helpers/engine-env.ts";
import { startServe, type ServeProcess, writeHttpsConfig } from "../../helpers/serve.ts";
import type { Browser } from "playwright-core";
import { bytesToHex } from "viem";
import { eciesEncrypt } from "../../../src/crypto/ecies.ts";
import { publicKeyOf } from "../../../src/crypto/keys.ts";

setDefaultTimeout(120_000);
const skip = !anvilAvailable() || chromiumUnavailable() !== undefined;
if (chromiumUnavailable()) console.log(`skipping My servers browser tests: ${chromiumUnavailable()}`);

const BUYER = 1;
const NEW_HOLDER = 2;

describe.skipIf(skip)("My servers in Chromium (dry-run backend)", () => {
  let env: EngineEnv;
  let engine: EngineProcess;
  let serve: ServeProcess;
  let browser: Browser;
  let vm: VmJson;
  const pages: WalletPage[] = [];

  const open = async (account: number) => {
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[account]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    pages.push(wp);
    await wp.page.goto(`${serve.origin}/my`);
    return wp;
  };
  const signIn = async (wp: WalletPage) => {
    await wp.page.click("#btn-panel-signin");
    await wp.page.waitForSelector("#panel-wallet", { timeout: 30_000 }).catch(async (e) => {
      throw new Error(`not signed in; the page says ${JSON.stringify(await statusText(wp))}: ${e}`);
    });
  };
  const card = (wp: WalletPage) => wp.page.locator(`li[data-server="${vm.vm_name}"]`);
  const stateIs = (wp: WalletPage, state: string) =>
    wp.page.waitForFunction(
      ([name, want]) => document.querySelector(`li[data-server="${name}"] [data-field="state"]`)?.textContent === want,
      [vm.vm_name, state] as const,
      { timeout: 60_000 },
    );
  const statusText = (wp: WalletPage) => wp.page.locator("#status").textContent();
  const waitStatus = (wp: WalletPage, re: RegExp) =>
    wp.page
      .waitForFunction((src) => new RegExp(src).test(document.getElementById("status")?.textContent ?? ""), re.source, {
        timeout: 20_000,
      })
      .catch(async (e) => {
        throw new Error(`status is ${JSON.stringify(await statusText(wp))}, not ${re}: ${e}`);
      });
  const vmRow = async () => (await env.vms()).find((v) => v.vm_name === vm.vm_name)!;

  beforeAll(async () => {
    // The engine samples usage every 10 s here (default 60 s), so graphs have points within the run.
    env = await EngineEnv.create({ backendYaml: "os: [debian-12, debian-13]\nusage: {sample_interval_s: 10}" });
    await env.mintTo(OWNER); // NFT #0: the admin credential
    await writeHttpsConfig(env.root);
    engine = env.startEngine();
    serve = await startServe(env.root);
    browser = await launchChromium();
    const bought = await env.buy(BUYER);
    vm = await env.servedVm(bought.subscriptionId, "the bought server has its NFT");
  });
  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await browser?.close();
    await serve?.stop();
    await engine?.stop();
    await env?.stop();
  });

  test("sign in once; the card shows plan size, OS, addresses, expiry and the ssh line", async () => {
    const wp = await open(BUYER);
    expect(await wp.page.locator("#btn-panel-signin").isVisible()).toBe(true);
    await signIn(wp);
    expect((await wp.page.locator("#panel-wallet").textContent())?.toLowerCase()).toBe(wp.address.toLowerCase());
    const text = await card(wp).textContent();
    expect(text).toContain(vm.vm_name);
    expect(text).toContain("1 vCPU, 2 GiB memory, 20 GB disk");
    expect(text).toContain("Debian 12 (bookworm)");
    expect(text).toContain(vm.ip_address);
    expect(text).toContain(`ssh admin@`);
    expect(wp.requests.filter((m) => m === "personal_sign").length).toBe(1);
    await screenshot(wp.page, "my-servers");
    // Every page works at 360 px: nothing wider than the screen.
    await wp.page.setViewportSize({ width: 360, height: 740 });
    expect(await wp.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
      0,
    );
    expect(wp.errors).toEqual([]);
  });

  test("usage graphs of the server from the engine's samples: SVG charts, a table, range links by keyboard, 360 px", async () => {
    const wp = pages[0]!;
    const usage = `${serve.origin}/my/servers/${vm.vm_name}/usage`;
    const json = () =>
      wp.page.evaluate(async (u) => (await fetch(`${u}.json?range=hour`)).json(), usage) as Promise<{
        points: Array<{ rx: number | null }>;
        used: { rxBytes: number };
      }>;
    // A rate needs readings in two different minutes: wait for the engine's (dry-run backend) samples.
    const deadline = Date.now() + 100_000;
    while (!(await json()).points.some((p) => p.rx !== null)) {
      if (Date.now() > deadline) throw new Error("no usage rate within 100 s of samples every 10 s");
      await Bun.sleep(2000);
    }
    expect((await json()).used.rxBytes).toBeGreaterThan(0);
    await wp.page.goto(`${serve.origin}/my`);
    await card(wp).locator("a[data-usage]").click();
    await wp.page.waitForSelector("#vm-net svg[role=img]", { state: "visible" });
    // A flat line has no height, which Playwright calls hidden: check the line's points instead.
    const rx = await wp.page.locator("#vm-net polyline[data-line=rx]").first().getAttribute("points");
    expect(rx?.split(" ").length).toBeGreaterThanOrEqual(2);
    expect(await wp.page.locator("#vm-net polyline[data-line=tx]").count()).toBeGreaterThan(0);
    expect(await wp.page.locator("#vm-cpu polyline").count()).toBeGreaterThan(0);
    expect(await wp.page.locator("#vm-table tbody tr").count()).toBeGreaterThan(0);
    // The range switch is links: reachable and followed with the keyboard.
    await wp.page.locator('a[href$="range=month"]').focus();
    await wp.page.keyboard.press("Enter");
    await wp.page.waitForURL(/range=month$/);
    expect(await wp.page.locator('a[aria-current="page"]').textContent()).toBe("Last 30 days");
    await wp.page.setViewportSize({ width: 360, height: 740 });
    await wp.page.goto(`${usage}?range=hour`);
    expect(await wp.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
      0,
    );
    await screenshot(wp.page, "my-servers-usage-360");
    expect(wp.errors).toEqual([]);
  });

  test("power: shut down, start, reboot and power off are engine jobs; the state follows live", async () => {
    const wp = await open(BUYER);
    await signIn(wp);
    for (const [label, state] of [
      ["Shut down", "stopped"],
      ["Start", "running"],
      ["Reboot", "running"],
      ["Power off", "stopped"],
      ["Start", "running"],
    ] as const) {
      await card(wp).getByRole("button", { name: label, exact: true }).click();
      await waitStatus(wp, new RegExp(`^${label} ${vm.vm_name}: done\\.$`));
      await stateIs(wp, state);
    }
    expect((await vmRow()).status).toBe("active");
    const power = engine.events().filter((e) => e.event === "vm.power" && e.vm === vm.vm_name);
    expect(power.map((e) => e.action)).toEqual(["shutdown", "start", "reboot", "off", "start"]);
    expect(power.every((e) => String(e.by).toLowerCase() === `wallet:${wp.address.toLowerCase()}`)).toBe(true);
    expect(wp.errors).toEqual([]);
  });

  test("reinstall with Debian 13, confirmed by a signature: same name and addresses, the OS changes", async () => {
    const wp = await open(BUYER);
    await signIn(wp);
    await card(wp).locator('[data-field="os-choice"]').selectOption("debian-13");
    const signs = wp.requests.filter((m) => m === "personal_sign").length;
    await card(wp)
      .getByRole("button", { name: /Reinstall/ })
      .click();
    await waitStatus(wp, new RegExp(`^Reinstall ${vm.vm_name}: done\\.$`));
    expect(wp.requests.filter((m) => m === "personal_sign").length).toBe(signs + 1);
    await wp.page.waitForFunction(
      (name) => document.querySelector(`li[data-server="${name}"] [data-field="os"]`)?.textContent?.includes("13"),
      vm.vm_name,
    );
    const after = await vmRow();
    expect(after).toMatchObject({ vm_name: vm.vm_name, ip_address: vm.ip_address, nft_token_id: vm.nft_token_id });
    expect(engine.events().some((e) => e.event === "vm.reinstall" && e.vm === vm.vm_name)).toBe(true);
    expect(wp.errors).toEqual([]);
  });

  test("a suspended server refuses start with a reason the customer can act on", async () => {
    const wp = await open(BUYER);
    await signIn(wp);
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"));
    db.query("UPDATE vms SET status = 'suspended' WHERE vm_name = ?").run(vm.vm_name);
    db.close();
    await card(wp).getByRole("button", { name: "Start", exact: true }).click();
    await waitStatus(wp, /suspended since its subscription expired.*extend the subscription/);
    expect(engine.events().filter((e) => e.event === "vm.power" && e.action === "start").length).toBe(2);
    const db2 = new Database(join(env.root, "var/lib/blockhost/blockhost.db"));
    db2.query("UPDATE vms SET status = 'active' WHERE vm_name = ?").run(vm.vm_name);
    db2.close();
  });

  test("extend inside the panel: paid on chain, the expiry follows live, and the suspended server starts again", async () => {
    const wp = await open(BUYER);
    await signIn(wp);
    const before = await vmRow();
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"));
    db.query("UPDATE vms SET status = 'suspended' WHERE vm_name = ?").run(vm.vm_name);
    db.close();
    await stateIs(wp, "suspended");
    const sent = wp.requests.filter((m) => m === "eth_sendTransaction").length;
    await card(wp).locator('[data-field="extend-days"]').fill("7");
    await card(wp).getByRole("button", { name: "Extend", exact: true }).click();
    await waitStatus(wp, new RegExp(`^Paid: ${vm.vm_name} is extended until`));
    expect(wp.requests.filter((m) => m === "eth_sendTransaction").length).toBe(sent + 1);
    // The engine saw SubscriptionExtended: the expiry moved by exactly 7 days and the server was resumed.
    const want = new Date(Date.parse(before.expires_at) + 7 * 86_400_000).toISOString();
    await wp.page.waitForFunction(
      ([name, text]) =>
        document.querySelector(`li[data-server="${name}"] [data-field="expires"]`)?.textContent === text,
      [vm.vm_name, `${want.slice(0, 16).replace("T", " ")} UTC`] as const,
      { timeout: 60_000 },
    );
    await stateIs(wp, "running");
    expect((await vmRow()).status).toBe("active");
    expect(Date.parse((await vmRow()).expires_at)).toBe(Date.parse(want));
    await card(wp).getByRole("button", { name: "Shut down", exact: true }).click();
    await waitStatus(wp, new RegExp(`^Shut down ${vm.vm_name}: done\\.$`));
    await card(wp).getByRole("button", { name: "Start", exact: true }).click();
    await waitStatus(wp, new RegExp(`^Start ${vm.vm_name}: done\\.$`));
    await stateIs(wp, "running");
    await screenshot(wp.page, "my-servers-extended");
    expect(wp.errors).toEqual([]);
  });

  test("after an NFT transfer the old holder is refused and the new holder is allowed", async () => {
    const old = await open(BUYER);
    await signIn(old);
    await env.transferNft(vm.nft_token_id!, BUYER, NEW_HOLDER);
    await card(old).getByRole("button", { name: "Reboot", exact: true }).click();
    await waitStatus(old, new RegExp(`this wallet does not hold a server named ${vm.vm_name}`));
    // Its usage is the holder's too: the old holder's session no longer reads it.
    const usageStatus = await old.page.evaluate(
      async (u) => (await fetch(u)).status,
      `${serve.origin}/my/servers/${vm.vm_name}/usage.json`,
    );
    expect(usageStatus).toBe(404);
    const fresh = await open(NEW_HOLDER);
    await signIn(fresh);
    await card(fresh).getByRole("button", { name: "Reboot", exact: true }).click();
    await waitStatus(fresh, new RegExp(`^Reboot ${vm.vm_name}: done\\.$`));
    const reboots = engine.events().filter((e) => e.event === "vm.power" && e.action === "reboot");
    expect(String(reboots.at(-1)?.by).toLowerCase()).toBe(`wallet:${fresh.address.toLowerCase()}`);
    // The old holder's page no longer lists it after a reload.
    await old.page.reload();
    expect(await card(old).count()).toBe(0);
    expect(await statusText(old)).toBe("");
  });

  test("the OS chosen at purchase (in the encrypted payload) is the one the server is created from", async () => {
    const buyer = 3;
    const signature = await env.signature(buyer);
    const payload = bytesToHex(
      eciesEncrypt(publicKeyOf(env.serverKey), new TextEncoder().encode(`${signature}\nos=debian-13`)),
    );
    const bought = await env.buy(buyer, 30n, payload);
    const served = await env.servedVm(bought.subscriptionId, "the Debian 13 purchase has its NFT");
    const wp = await open(buyer);
    await signIn(wp);
    expect(await wp.page.locator(`li[data-server="${served.vm_name}"] [data-field="os"]`).textContent()).toBe(
      "Debian 13 (trixie)",
    );
  });
});
