// The serial console in Chromium against a real libvirt VM under TCG: the buyer signs in on My servers,
// opens the console, sees the getty's prompt, logs in on it by a wallet signature (the same PAM
// challenge as SSH) and runs a command; another wallet cannot open it; after an NFT transfer the old
// holder's console is closed and refused, the new holder's opens.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { anvilAvailable } from "../helpers/anvil.ts";
import { chromiumUnavailable, launchChromium, screenshot, walletPage, type WalletPage } from "../helpers/browser.ts";
import { type EngineEnv, type EngineProcess, OWNER, type VmJson } from "../helpers/engine-env.ts";
import { type LibvirtEngineHost, startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import { ensureLibvirtd, libvirtUnavailable, virshOut } from "../helpers/libvirt-host.ts";
import { terminalText } from "../helpers/console.ts";
import { type ServeProcess, startServe, writeHttpsConfig } from "../helpers/serve.ts";
import { loginMessage, parseChallenge } from "../helpers/vmauth.ts";

setDefaultTimeout(30 * 60_000); // TCG on a shared 2-core machine: a first boot took 12 min at load 25

const unavailable =
  libvirtUnavailable() ??
  chromiumUnavailable() ??
  (anvilAvailable() ? undefined : "anvil (linux-x64) is not available");
if (unavailable) console.log(`skip: libvirt console test: ${unavailable}`);

const BUYER = 1;
const STRANGER = 2;
const NEW_HOLDER = 3;

describe.skipIf(Boolean(unavailable))("the serial console of a libvirt VM in Chromium", () => {
  let host: LibvirtEngineHost;
  let env: EngineEnv;
  let engine: EngineProcess;
  let serve: ServeProcess;
  let daemons: { stop: () => void };
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
    await wp.page.setViewportSize({ width: 1280, height: 900 });
    await wp.page.goto(`${serve.origin}/my`);
    await wp.page.click("#btn-panel-signin");
    await wp.page.waitForSelector("#panel-wallet", { timeout: 60_000 });
    return wp;
  };
  const card = (wp: WalletPage) => wp.page.locator(`li[data-server="${vm.vm_name}"]`);
  const screenText = (wp: WalletPage) => terminalText(card(wp));
  const waitScreen = async (wp: WalletPage, re: RegExp, timeoutMs = 120_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = await screenText(wp).catch(() => "");
      if (re.test(text)) return text;
      if (Date.now() > until) throw new Error(`the console never showed ${re}; it shows:\n${text}`);
      await wp.page.waitForTimeout(250);
    }
  };
  /** A WebSocket to the console from the page itself (its cookie, Origin and CSRF token): how it closed. */
  const tryOpen = (wp: WalletPage) =>
    wp.page.evaluate(
      (name) =>
        new Promise<{ code: number; reason: string }>((resolve) => {
          const data = JSON.parse(document.getElementById("page-data")?.dataset.json ?? "{}") as { csrf: string };
          const ws = new WebSocket(`wss://${location.host}/my/servers/${name}/console?csrf=${data.csrf}`);
          ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
        }),
      vm.vm_name,
    );
  const serveEvents = () =>
    serve
      .log()
      .split("\n")
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });

  beforeAll(async () => {
    daemons = await ensureLibvirtd();
    host = await startLibvirtEngineHost({ guestAgentTimeoutS: 1500 });
    env = host.env;
    await env.mintTo(OWNER); // NFT #0: the admin credential
    await writeHttpsConfig(env.root);
    engine = env.startEngine();
    serve = await startServe(env.root);
    browser = await launchChromium();
    const bought = await env.buy(BUYER, 1n);
    vm = await env.servedVm(bought.subscriptionId, "VM + NFT + GECOS", { gecos: true, everyMs: 1000 });
    expect(virshOut("domstate", vm.vm_name).out).toBe("running");
  }, 45 * 60_000);

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await browser?.close();
    await serve?.stop();
    await engine?.stop();
    await host?.stop();
    daemons?.stop();
  }, 120_000);

  test("the buyer opens the console, sees the login prompt, logs in by signing and runs a command", async () => {
    const wp = await open(BUYER);
    await card(wp).getByRole("button", { name: "Console", exact: true }).click();
    await wp.page.waitForSelector(`li[data-server="${vm.vm_name}"] .console[data-state="open"]`, { timeout: 30_000 });
    // The guest may still be booting (its kernel and getty use ttyS0): the prompt comes when getty runs.
    await waitScreen(wp, /login: *$/m, 15 * 60_000);
    await wp.page.keyboard.type(`${vm.username}\r`);
    const banner = await waitScreen(wp, /Code:[\s\S]*Password: *$/m, 300_000);
    const c = parseChallenge(banner);
    const signature = await privateKeyToAccount(env.anvil.accounts[BUYER]!.privateKey).signMessage({
      message: loginMessage(c.machine, c.code, c.expires),
    });
    await wp.page.keyboard.type(`${signature}\r`);
    await waitScreen(wp, new RegExp(`${vm.username}@[^:]+:~\\$ *$`, "m"), 300_000);
    await wp.page.keyboard.type("echo console-ok-$((6*7))\r");
    await waitScreen(wp, /^console-ok-42 *$/m, 120_000);
    await screenshot(wp.page, "console");
    // At 360 px the console fits the screen (the fit addon narrows the terminal).
    await wp.page.setViewportSize({ width: 360, height: 740 });
    await wp.page.waitForTimeout(300);
    expect(await wp.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
      0,
    );
    await card(wp).getByRole("button", { name: "Close console" }).click();
    expect(wp.errors).toEqual([]);
    await wp.page.waitForFunction(() => !document.querySelector(".console"));
    const audited = Date.now() + 10_000;
    while (!serveEvents().some((e) => e.event === "panel.console") && Date.now() < audited) await Bun.sleep(100);
    const audit = serveEvents().filter((e) => e.event === "panel.console");
    expect(audit.at(-1)).toMatchObject({ vm: vm.vm_name, reason: "browser-closed" });
    expect(String(audit.at(-1)?.wallet).toLowerCase()).toBe(wp.address.toLowerCase());
    expect(Number(audit.at(-1)?.duration_s)).toBeGreaterThan(0);
  });

  test("a wallet that does not hold the server cannot open its console", async () => {
    const wp = await open(STRANGER);
    expect(await card(wp).count()).toBe(0);
    expect(await tryOpen(wp)).toEqual({ code: 4404, reason: `this wallet does not hold a server named ${vm.vm_name}` });
  });

  test("after an NFT transfer the old holder's console closes and is refused; the new holder's opens", async () => {
    const old = await open(BUYER);
    await card(old).getByRole("button", { name: "Console", exact: true }).click();
    await waitScreen(old, /(login: |\$) *$/m);
    await env.transferNft(vm.nft_token_id!, BUYER, NEW_HOLDER);
    // serve re-reads ownerOf every 30 s while a console is open.
    await old.page.waitForSelector(`li[data-server="${vm.vm_name}"] .console[data-state="closed"]`, {
      timeout: 90_000,
    });
    expect(await old.page.locator("#status").textContent()).toContain("no longer holds the server");
    expect((await tryOpen(old)).code).toBe(4404);
    const fresh = await open(NEW_HOLDER);
    await card(fresh).getByRole("button", { name: "Console", exact: true }).click();
    await waitScreen(fresh, /(login: |\$) *$/m);
    expect(fresh.errors).toEqual([]);
  });
});
