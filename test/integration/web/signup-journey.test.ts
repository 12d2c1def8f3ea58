/** The customer's journey and the admin panel in headless Chromium with an injected wallet, against anvil, the engine and `blockhost serve`. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { chromiumUnavailable, launchChromium, screenshot, walletPage, type WalletPage } from "../../helpers/browser.ts";
import { approve, balanceOf, read, send } from "../../helpers/contracts.ts";
import { EngineEnv, eventually, OWNER, type EngineProcess } from "../../helpers/engine-env.ts";
import { startServe, writeHttpsConfig, type ServeProcess } from "../../helpers/serve.ts";
import { signChallenge } from "../../helpers/siwe.ts";
import type { SiweChallenge } from "../../../src/web/session/index.ts";

setDefaultTimeout(120_000);
const skip = !anvilAvailable() || chromiumUnavailable() !== undefined;
if (chromiumUnavailable()) console.log(`skipping browser journeys: ${chromiumUnavailable()}`);

const XSS = "<img src=x onerror=alert(1)>";
type Vm = {
  vm_name: string;
  subscription_id: number | null;
  ip_address: string;
  username: string;
  nft_token_id: number | null;
};

describe.skipIf(skip)("signup page and admin panel in Chromium", () => {
  let env: EngineEnv;
  let engine: EngineProcess;
  let serve: ServeProcess;
  let browser: Browser;
  const pages: WalletPage[] = [];
  const open = async (account: number, path = "/") => {
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[account]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    wp.page.on("dialog", (d) => {
      wp.errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    pages.push(wp);
    await wp.page.goto(`${serve.origin}${path}`);
    return wp;
  };
  const status = (wp: WalletPage) => wp.page.locator("#status").textContent();
  const vms = async () => JSON.parse((await runBlockhost(["vm", "list", "--json"], { root: env.root })).stdout) as Vm[];
  const connect = async (wp: WalletPage) => {
    await wp.page.click("#btn-connect");
    await wp.page.waitForFunction(() => document.getElementById("wallet-address")?.textContent?.startsWith("0x"));
  };

  beforeAll(async () => {
    env = await EngineEnv.create();
    // NFT #0 is the admin credential, held by the host wallet (as finalize mints it).
    await env.mintTo(OWNER);
    await send(env.net, OWNER, {
      address: env.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "createPlan",
      args: [XSS, 250n],
    });
    await approve(
      env.net,
      1,
      await read<Hex>(env.net, {
        address: env.subs,
        abi: blockhostSubscriptionsAbi,
        functionName: "getPrimaryStablecoin",
      }),
      env.subs,
      0n,
    );
    await writeHttpsConfig(env.root);
    engine = env.startEngine();
    serve = await startServe(env.root);
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await browser?.close();
    await serve?.stop();
    await engine?.stop();
    await env?.stop();
  });

  test("the page lists the chain's plans; a plan named like HTML renders as text", async () => {
    const wp = await open(1);
    const options = await wp.page.locator("#plan-select option").allTextContents();
    expect(options).toEqual(["Basic — $1.00 per day", `${XSS} — $2.50 per day`]);
    expect(await wp.page.locator("img").count()).toBe(0);
    expect(await wp.page.locator("#total-cost").textContent()).toBe("30.00");
    await wp.page.selectOption("#plan-select", "2");
    await wp.page.fill("#days-input", "4");
    expect(await wp.page.locator("#total-cost").textContent()).toBe("10.00");
    await screenshot(wp.page, "signup-page");
    expect(wp.errors).toEqual([]);
  });

  test("buy through the page: approve (allowance was 0), pay, follow provisioning to ready, details = vm list", async () => {
    const wp = await open(1);
    await connect(wp);
    await wp.page.click("#btn-purchase");
    await wp.page.waitForSelector("#ready-line", { timeout: 90_000 });
    await wp.page.waitForSelector("#purchase-details .ssh-command");
    const ssh = await wp.page.locator("#purchase-details .ssh-command").textContent();
    const vm = (await vms()).find((v) => v.subscription_id === 1)!;
    expect(ssh).toBe(`ssh ${vm.username}@${vm.ip_address}`);
    expect(wp.requests.filter((m) => m === "eth_sendTransaction").length).toBe(2); // approve + buy
    expect(await wp.page.locator("#progress li[data-state=done]").count()).toBe(4);
    expect(wp.errors).toEqual([]);
  });

  test("my servers: extend moves the expiry by the chain's amount; sign to decrypt shows the same host", async () => {
    const wp = await open(1);
    await connect(wp);
    await wp.page.click("#btn-servers");
    const item = wp.page.locator('#subscription-list li[data-subscription="1"]');
    await item.waitFor();
    const before = (await env.subscription(1)).expiresAt;
    await item.locator("input").fill("5");
    await item.locator("button").click();
    await wp.page.waitForFunction(() =>
      document.querySelector('#subscription-list li[data-subscription="1"] .expiry')?.getAttribute("data-seconds"),
    );
    const after = (await env.subscription(1)).expiresAt;
    expect(after - before).toBe(5n * 86_400n);
    expect(await item.locator(".expiry").getAttribute("data-seconds")).toBe(String(after));
    const vm = (await vms()).find((v) => v.subscription_id === 1)!;
    const nft = wp.page.locator(`#nft-list li[data-token="${vm.nft_token_id}"]`);
    await nft.locator("button").click();
    await nft.locator(".ssh-command").waitFor();
    expect(await nft.locator(".ssh-command").textContent()).toBe(`ssh ${vm.username}@${vm.ip_address}`);
    expect(wp.errors).toEqual([]);
  });

  test("offline decrypt with a signature made elsewhere", async () => {
    const wp = await open(9);
    const vm = (await vms()).find((v) => v.subscription_id === 1)!;
    await wp.page.fill("#offline-token", String(vm.nft_token_id));
    await wp.page.click("#btn-offline-load");
    await wp.page.locator("#offline-info").waitFor();
    expect(await wp.page.locator("#offline-secret").textContent()).toBe("blockhost-access");
    await wp.page.fill(
      "#offline-signature",
      await privateKeyToAccount(env.anvil.accounts[1]!.privateKey).signMessage({ message: "blockhost-access" }),
    );
    await wp.page.click("#btn-offline-decrypt");
    expect(await wp.page.locator("#offline-result .ssh-command").textContent()).toBe(
      `ssh ${vm.username}@${vm.ip_address}`,
    );
    await wp.page.fill(
      "#offline-signature",
      await privateKeyToAccount(env.anvil.accounts[2]!.privateKey).signMessage({ message: "blockhost-access" }),
    );
    await wp.page.click("#btn-offline-decrypt");
    expect(await status(wp)).toContain("does not open");
  });

  test("a second wallet sees no servers", async () => {
    const wp = await open(3);
    await connect(wp);
    await wp.page.click("#btn-servers");
    await wp.page.locator("#no-servers").waitFor();
    expect(await wp.page.locator("#nft-list li").count()).toBe(0);
  });

  test("a purchase with an empty payload: VM and NFT, details shown to the holder only", async () => {
    const p = await env.buy(4, 10n, "0x");
    const vm = await eventually(
      async () => (await vms()).find((v) => v.subscription_id === p.subscriptionId && v.nft_token_id !== null),
      "empty-payload VM",
    );
    expect(await env.nftPayload(vm.nft_token_id!)).toBe("0x");
    const wp = await open(4);
    await connect(wp);
    await wp.page.click("#btn-servers");
    const nft = wp.page.locator(`#nft-list li[data-token="${vm.nft_token_id}"]`);
    await nft.locator("button").click();
    await nft.locator(".ssh-command").waitFor();
    expect(await nft.locator(".ssh-command").textContent()).toBe(`ssh ${vm.username}@${vm.ip_address}`);
    expect(wp.requests.filter((m) => m === "personal_sign").length).toBe(2); // public secret, then the EIP-4361 sign-in
    const other = await open(5);
    // Another wallet signs a correct sign-in for the token from the same page: the host refuses it.
    const challenge = (await other.page.evaluate(
      async (t) => (await fetch(`/api/v1/credentials/${t}/challenge`, { method: "POST" })).json(),
      String(vm.nft_token_id),
    )) as SiweChallenge;
    expect(challenge.domain).toBe(new URL(serve.origin).host);
    const signed = await signChallenge(challenge, privateKeyToAccount(env.anvil.accounts[5]!.privateKey));
    const denied = await other.page.evaluate(
      async ([t, body]) =>
        (
          await fetch(`/api/v1/credentials/${t}/details`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          })
        ).status,
      [String(vm.nft_token_id), JSON.stringify(signed)] as const,
    );
    expect(denied).toBe(403);
    expect(wp.errors).toEqual([]);
  });

  test("admin: the NFT #0 holder logs in and sees the VMs; anyone else is refused; POST without CSRF is 403", async () => {
    const admin = await open(OWNER, "/admin");
    expect(admin.page.url()).toBe(`${serve.origin}/admin/login`);
    await admin.page.click("#btn-login");
    await admin.page.waitForURL(`${serve.origin}/admin`);
    const rows = admin.page.locator("#vm-table tbody tr");
    expect(await rows.count()).toBe((await vms()).length);
    await screenshot(admin.page, "admin-vms");
    const noCsrf = await admin.context.request.post(`${serve.origin}/admin/jobs/retry`, {
      form: { key: "provision:1:1" },
    });
    expect(noCsrf.status()).toBe(403);
    const plans = await admin.page.goto(`${serve.origin}/admin/plans`);
    expect(plans?.status()).toBe(200);
    expect(await admin.page.locator("#plan-name-1").inputValue()).toBe("Basic");
    expect(await admin.page.locator("#plan-name-2").inputValue()).toBe(XSS);
    await admin.page.fill("#new-plan-name", "Large");
    await admin.page.fill("#new-plan-price", "3.25");
    await admin.page.click("#new-plan button[type=submit]");
    await admin.page.waitForURL(/\/admin\/plans\?done=/);
    expect(
      await read(env.net, { address: env.subs, abi: blockhostSubscriptionsAbi, functionName: "getPlan", args: [3n] }),
    ).toEqual(["Large", 325n, true]);
    writeFileSync(
      join(env.root, "etc/blockhost/addressbook.json"),
      JSON.stringify({ hot: { address: env.anvil.accounts[8]!.address } }),
    );
    await admin.page.goto(`${serve.origin}/admin/wallet`);
    expect(Number(await admin.page.locator("#contract-balance").textContent())).toBeGreaterThan(0);
    const coin = await read<Hex>(env.net, {
      address: env.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "getPrimaryStablecoin",
    });
    const hotBefore = await balanceOf(env.net, coin, env.anvil.accounts[8]!.address);
    await admin.page.click("#withdraw button[type=submit]");
    await admin.page.waitForURL(/\/admin\/wallet\?done=/);
    expect(await admin.page.locator("#contract-balance").textContent()).toBe("0");
    expect(await balanceOf(env.net, coin, env.anvil.accounts[8]!.address)).toBeGreaterThan(hotBefore);
    expect(admin.errors).toEqual([]);

    const intruder = await open(1, "/admin/login");
    await intruder.page.click("#btn-login");
    await intruder.page.waitForFunction(() => document.getElementById("status")?.className === "error");
    expect(await status(intruder)).toContain("does not hold the admin NFT");
    expect((await intruder.page.goto(`${serve.origin}/admin`))?.url()).toBe(`${serve.origin}/admin/login`);
  });

  test("after transferFrom of NFT #0 the new holder is admin and the old one is not", async () => {
    const oldAdmin = pages.find((p) => p.address === env.anvil.accounts[OWNER]!.address)!;
    await env.transferNft(0, OWNER, 6);
    expect((await oldAdmin.page.goto(`${serve.origin}/admin`))?.status()).toBe(403);
    const again = await open(OWNER, "/admin/login");
    await again.page.click("#btn-login");
    await again.page.waitForFunction(() => document.getElementById("status")?.className === "error");
    const newAdmin = await open(6, "/admin/login");
    await newAdmin.page.click("#btn-login");
    await newAdmin.page.waitForURL(`${serve.origin}/admin`);
    expect(await newAdmin.page.locator("#vm-table").count()).toBe(1);
  });
});
