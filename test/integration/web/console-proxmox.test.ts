/**
 * The browser console through `blockhost serve` and the Proxmox backend: Chromium with an injected
 * wallet, the engine and the real agent, the qm simulator's `serial0` socket (a fake getty). Also the
 * WebSocket's own checks: a foreign Origin or a missing CSRF token is refused before any upgrade.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { chromiumUnavailable, launchChromium, walletPage, type WalletPage } from "../../helpers/browser.ts";
import { EngineEnv, type EngineProcess, OWNER, type VmJson } from "../../helpers/engine-env.ts";
import { anvilProxmoxUnavailable, type ProxmoxHost, startProxmoxHost } from "../../helpers/proxmox-host.ts";
import { terminalText } from "../../helpers/console.ts";
import { type ServeProcess, startServe, writeHttpsConfig } from "../../helpers/serve.ts";

setDefaultTimeout(120_000);
const unavailable = anvilProxmoxUnavailable() ?? chromiumUnavailable();
if (unavailable) console.log(`skip: console through the Proxmox backend: ${unavailable}`);

const BUYER = 1;
const STRANGER = 2;
const NEW_HOLDER = 3;

describe.skipIf(Boolean(unavailable))("the console through serve and the Proxmox backend (qm simulator)", () => {
  let env: EngineEnv;
  let host: ProxmoxHost;
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
    await wp.page.click("#btn-panel-signin");
    await wp.page.waitForSelector("#panel-wallet", { timeout: 30_000 });
    return wp;
  };
  const card = (wp: WalletPage) => wp.page.locator(`li[data-server="${vm.vm_name}"]`);
  const waitScreen = async (wp: WalletPage, re: RegExp) => {
    const until = Date.now() + 20_000;
    for (;;) {
      const text = await terminalText(card(wp));
      if (re.test(text)) return text;
      if (Date.now() > until) {
        const status = await wp.page.locator("#status").textContent();
        const html = (
          await card(wp)
            .locator(".console")
            .innerHTML()
            .catch(() => "")
        ).slice(0, 1500);
        throw new Error(
          `the console never showed ${re}; status ${status}; errors ${wp.errors}; it shows:\n${text}\n${html}`,
        );
      }
      await wp.page.waitForTimeout(100);
    }
  };
  /** Open the console WebSocket from the page (its cookie and Origin) with `csrf`: how it closed, or that it opened. */
  const tryOpen = (wp: WalletPage, csrf?: string) =>
    wp.page.evaluate(
      ([name, token]) =>
        new Promise<{ opened: boolean; code: number; reason: string }>((resolve) => {
          const data = JSON.parse(document.getElementById("page-data")?.dataset.json ?? "{}") as { csrf: string };
          const ws = new WebSocket(`wss://${location.host}/my/servers/${name}/console?csrf=${token ?? data.csrf}`);
          let opened = false;
          // A refusal after the upgrade comes as the server's close; an accepted console stays open.
          ws.onopen = () => {
            opened = true;
            setTimeout(() => ws.close(1000), 2000);
          };
          ws.onclose = (e) => resolve({ opened, code: e.code, reason: e.reason });
        }),
      [vm.vm_name, csrf] as const,
    );

  beforeAll(async () => {
    env = await EngineEnv.create({ backend: "proxmox", ipv6Prefix: "2001:db8:78::/120" });
    host = await startProxmoxHost(env.root);
    host.sim.setRunDir(join(env.root, "var/run/qemu-server"));
    await env.mintTo(OWNER);
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
    if (vm) await host?.agent.client.call("qm-stop", { vmid: vm.vmid }).catch(() => {});
    await host?.stop();
    await env?.stop();
  });

  test("Console opens an xterm on the server's serial0: login prompt, typing and output", async () => {
    const wp = await open(BUYER);
    await card(wp).getByRole("button", { name: "Console", exact: true }).click();
    await waitScreen(wp, new RegExp(`${vm.vm_name} login: *$`, "m"));
    await wp.page.keyboard.type("admin\r");
    await waitScreen(wp, /admin@\S+:~\$ *$/m);
    await wp.page.keyboard.type("echo typed-in-chromium\r");
    await waitScreen(wp, /^typed-in-chromium *$/m);
    await wp.page.setViewportSize({ width: 360, height: 740 });
    await wp.page.waitForTimeout(200);
    expect(await wp.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(
      0,
    );
    expect(wp.errors).toEqual([]);
    expect(await wp.page.locator("#status").textContent()).toBe(`Console of ${vm.vm_name}: connected.`);
  });

  test("the upgrade needs this page's CSRF token and Origin", async () => {
    const wp = await open(BUYER);
    expect(await tryOpen(wp, "not-the-token")).toMatchObject({ opened: false, code: 1006 });
    const cookies = await wp.page.context().cookies(serve.origin);
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const csrf = await wp.page.evaluate(
      () => (JSON.parse(document.getElementById("page-data")?.dataset.json ?? "{}") as { csrf: string }).csrf,
    );
    const url = `${serve.origin.replace("https", "wss")}/my/servers/${vm.vm_name}/console?csrf=${csrf}`;
    const attempt = (origin: string) =>
      new Promise<boolean>((resolve) => {
        const ws = new WebSocket(url, { headers: { cookie, origin }, tls: { rejectUnauthorized: false } } as never);
        ws.onopen = () => {
          ws.close();
          resolve(true);
        };
        ws.onerror = () => resolve(false);
      });
    expect(await attempt("https://evil.example")).toBe(false);
    expect(await attempt(serve.origin)).toBe(true);
  });

  test("another wallet is refused; after an NFT transfer the old holder is refused and the new one gets the console", async () => {
    const stranger = await open(STRANGER);
    expect(await tryOpen(stranger)).toMatchObject({ code: 4404 });
    const old = await open(BUYER);
    expect(await tryOpen(old)).toMatchObject({ opened: true, code: 1000 });
    await env.transferNft(vm.nft_token_id!, BUYER, NEW_HOLDER);
    expect(await tryOpen(old)).toEqual({
      opened: true,
      code: 4404,
      reason: `this wallet does not hold a server named ${vm.vm_name}`,
    });
    const fresh = await open(NEW_HOLDER);
    await card(fresh).getByRole("button", { name: "Console", exact: true }).click();
    await waitScreen(fresh, /login: *$/m);
    const audit = serve
      .log()
      .split("\n")
      .filter((l) => l.includes('"panel.refused"') && l.includes('"console"'));
    expect(audit.length).toBeGreaterThanOrEqual(2);
  });
});
