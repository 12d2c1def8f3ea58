/** The admin panel's wallet and admin-command pages, and keyboard-only use at 360 px, in Chromium against anvil, the agent and `blockhost serve`. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createPublicClient, erc20Abi, type Hex, http, parseEther, parseUnits } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { addressOfPrivateKey } from "../../../src/crypto/keys.ts";
import { decodeAdminCommand } from "../../../src/engine/admin-commands/payload.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { chromiumUnavailable, launchChromium, screenshot, walletPage, type WalletPage } from "../../helpers/browser.ts";
import { EngineEnv, type EngineProcess, OWNER } from "../../helpers/engine-env.ts";
import { startServe, writeHttpsConfig, type ServeProcess } from "../../helpers/serve.ts";

setDefaultTimeout(120_000);
const skip = !anvilAvailable() || chromiumUnavailable() !== undefined;
if (chromiumUnavailable()) console.log(`skipping admin panel browser tests: ${chromiumUnavailable()}`);

const HOT = 2;
const FRIEND = 4;
const COMMAND = "k3y-5e1f0a9c";
const PHONE = { width: 360, height: 740 };

/** Press Tab until `selector` has the focus (keyboard only); fails when it is not reachable. */
async function tabTo(page: Page, selector: string, max = 120): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${selector} is not reachable with Tab`);
}

/** The focused element shows the focus ring (style.css `:focus-visible`). */
const focusRing = (page: Page) =>
  page.evaluate(() => {
    const s = getComputedStyle(document.activeElement as Element);
    return `${s.outlineStyle} ${s.outlineWidth}`;
  });

/** Visible controls without an accessible name (label, aria-label or text). */
const unnamedControls = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("input:not([type=hidden]), select, textarea, button, a[href]")]
      .filter((el) => el.checkVisibility())
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        const named =
          el.getAttribute("aria-label") ||
          (labels && [...labels].some((l) => l.textContent?.trim())) ||
          (el.tagName === "BUTTON" || el.tagName === "A" ? el.textContent?.trim() : "");
        return !named;
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );

/** How far the page is wider than the viewport (0: nothing but the tables' own scroll areas overflows). */
const overflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.skipIf(skip)("admin wallet and admin commands in Chromium; keyboard-only at 360 px", () => {
  let env: EngineEnv;
  let agent: RunningAgent;
  let engine: EngineProcess;
  let serve: ServeProcess;
  let browser: Browser;
  let admin: WalletPage;
  const pages: WalletPage[] = [];
  const etc = () => join(env.root, "etc/blockhost");
  const book = () =>
    JSON.parse(readFileSync(join(etc(), "addressbook.json"), "utf8")) as Record<
      string,
      { address: string; keyfile?: string }
    >;
  const commands = () =>
    JSON.parse(readFileSync(join(etc(), "admin-commands.json"), "utf8")) as {
      commands: Record<string, { action: string; description?: string; params?: Record<string, unknown> }>;
    };
  const address = (i: number) => env.anvil.accounts[i]!.address;
  const chain = () => createPublicClient({ transport: http(env.anvil.rpcUrl) });
  const open = async (account: number, path: string, viewport = PHONE) => {
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[account]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    await wp.page.setViewportSize(viewport);
    pages.push(wp);
    await wp.page.goto(`${serve.origin}${path}`);
    return wp;
  };
  /** Submit the form that holds `selector` with Enter and wait for the page it leads to. */
  const submitWithEnter = async (page: Page) => {
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  };
  /** A form POST from inside the admin's page (its cookie), optionally without the CSRF token. */
  const post = (page: Page, path: string, fields: Record<string, string>, csrf = true) =>
    page.evaluate(
      async ({ path, fields, csrf }) => {
        const body = new URLSearchParams(fields);
        const token = document.querySelector<HTMLInputElement>("input[name=csrf]")?.value ?? "";
        if (csrf) body.set("csrf", token);
        // A successful write answers 303 to the page that shows its notice; fetch follows it.
        const r = await fetch(path, { method: "POST", body });
        const html = new DOMParser().parseFromString(await r.text(), "text/html");
        // An error is the section's page with one alert line; a success redirects to a page with its notice.
        const line = html.querySelector("#error, p.ok[role=status]")?.textContent ?? html.body.textContent ?? "";
        return { status: r.status, redirected: r.redirected, text: line, url: r.url };
      },
      { path, fields, csrf },
    );

  beforeAll(async () => {
    env = await EngineEnv.create();
    await env.mintTo(OWNER);
    const hotKey = join(etc(), "hot.key");
    writeFileSync(hotKey, env.anvil.accounts[HOT]!.privateKey.slice(2), { mode: 0o640 });
    writeFileSync(
      join(etc(), "addressbook.json"),
      JSON.stringify({ admin: { address: address(OWNER) }, hot: { address: address(HOT), keyfile: hotKey } }),
    );
    writeFileSync(
      join(etc(), "admin-commands.json"),
      JSON.stringify({
        commands: { [COMMAND]: { action: "knock", params: { allowed_ports: [22], default_duration: 300 } } },
      }),
    );
    appendFileSync(
      join(etc(), "blockhost.yaml"),
      `admin: {wallet_address: '${address(OWNER)}', destination_mode: server, max_command_age: 300}\n`,
    );
    await writeHttpsConfig(env.root);
    agent = await startAgent({ root: env.root });
    engine = env.startEngine();
    serve = await startServe(env.root);
    browser = await launchChromium();
    // The admin logs in with the keyboard only, on a phone-sized screen.
    admin = await open(OWNER, "/admin/login");
    await tabTo(admin.page, "#btn-login");
    expect(await focusRing(admin.page)).toBe("solid 3px");
    await Promise.all([admin.page.waitForURL(`${serve.origin}/admin`), admin.page.keyboard.press("Enter")]);
  });
  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await browser?.close();
    await serve?.stop();
    await engine?.stop();
    await agent?.stop();
    await env?.stop();
  });

  test("every authenticated request writes the admin's address to knock.active (the engine narrows a knock to it)", async () => {
    const file = join(env.root, "run/blockhost/knock.active");
    const before = Date.now();
    await admin.page.goto(`${serve.origin}/admin/jobs`);
    expect(readFileSync(file, "utf8")).toBe("127.0.0.1\n");
    expect(statSync(file).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
  });

  test("addressbook: add, update and remove an entry with the keyboard; system roles cannot be changed", async () => {
    const { page } = admin;
    await page.goto(`${serve.origin}/admin/wallet`);
    await tabTo(page, "#add-name");
    await page.keyboard.type("friend");
    await page.keyboard.press("Tab");
    await page.keyboard.type(address(FRIEND).toLowerCase());
    await submitWithEnter(page);
    expect(await page.locator("p.ok[role=status]").textContent()).toBe("friend added");
    expect(book().friend).toEqual({ address: address(FRIEND) });

    await tabTo(page, "#address-friend");
    await page.keyboard.press("Control+A");
    await page.keyboard.type(address(5));
    await submitWithEnter(page);
    expect(book().friend).toEqual({ address: address(5) });

    await tabTo(page, 'tr[data-role="friend"] button.danger');
    await submitWithEnter(page);
    expect(book().friend).toBeUndefined();

    expect(await page.locator('tr[data-role="hot"] button.danger').count()).toBe(0);
    const refused = await post(page, "/admin/wallet/addressbook/hot/remove", {});
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('"hot" is a system role');
    expect(book().hot?.address).toBe(address(HOT));
    const bad = await post(page, "/admin/wallet/addressbook", { name: "x", address: "0x1234" });
    expect(bad.status).toBe(400);
    expect(bad.text).toStartWith("add the entry failed: address:");
    expect(Object.keys(book()).sort()).toEqual(["admin", "hot"]);
  });

  test("generate a wallet through the agent: key file 0640 on the host, its address in the addressbook", async () => {
    const { page } = admin;
    await page.goto(`${serve.origin}/admin/wallet`);
    await page.fill("#generate-name", "ops");
    await Promise.all([page.waitForNavigation(), page.click("#generate button")]);
    const entry = book().ops!;
    expect(entry.keyfile).toBe(join(etc(), "ops.key"));
    expect(statSync(entry.keyfile!).mode & 0o777).toBe(0o640);
    const key = readFileSync(entry.keyfile!, "utf8").trim();
    expect(privateKeyToAccount(`0x${key}`).address).toBe(entry.address as Hex);
    expect(await page.locator("p.ok[role=status]").textContent()).toBe(`new wallet ops: ${entry.address}`);
    expect(await page.locator("body").textContent()).not.toContain(key);
    const again = await post(page, "/admin/wallet/generate", { name: "ops" });
    expect(again.status).toBe(409);
    // Its address is the key's: not editable, only removable (the key file stays on disk).
    expect(await page.locator("#address-ops").count()).toBe(0);
    const moved = await post(page, "/admin/wallet/addressbook/ops", { address: address(7) });
    expect(moved.status).toBe(409);
    expect(book().ops?.address).toBe(entry.address);
  });

  test("send ETH and the stablecoin as engine jobs; a send posted again with its idempotency key pays once", async () => {
    const { page } = admin;
    const client = chain();
    const stable = await client.readContract({
      address: env.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "getPrimaryStablecoin",
    });
    const eth0 = await client.getBalance({ address: address(FRIEND) });
    const usd0 = await client.readContract({
      address: stable,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [address(FRIEND)],
    });
    await page.goto(`${serve.origin}/admin/wallet`);
    await page.selectOption("#send-from", "hot");
    await page.fill("#send-to", address(FRIEND));
    await page.selectOption("#send-token", "eth");
    await page.fill("#send-amount", "0.5");
    await Promise.all([page.waitForNavigation(), page.click("#send button")]);
    // The request only queues the send; the page follows the engine's job until the transaction is mined.
    expect(new URL(page.url()).pathname).toMatch(/^\/admin\/wallet\/sends\/send:[A-Za-z0-9_-]{22}$/);
    expect(await page.locator("p.ok[role=status]").first().textContent()).toStartWith("send of 0.5 ETH from hot to");
    await page.waitForFunction(() => document.getElementById("send-state")?.textContent === "done");
    expect(await page.locator("#status").textContent()).toMatch(/^Sent: transaction 0x[0-9a-f]{64} is mined\.$/);
    expect((await client.getBalance({ address: address(FRIEND) })) - eth0).toBe(parseEther("0.5"));

    // The same form posted again (a 503, a double click, a retry) is the same send: one payment.
    const idempotency_key = "retry-test-0123456789ab";
    const fields = { from: "hot", to: address(FRIEND), token: "stable", amount: "1.25", idempotency_key };
    const hotNonce = await client.getTransactionCount({ address: address(HOT) });
    const [first, second] = await Promise.all([
      post(page, "/admin/wallet/send", fields),
      post(page, "/admin/wallet/send", fields),
    ]);
    const path = (u: string) => new URL(u).pathname;
    expect(path(first.url)).toBe(`/admin/wallet/sends/send:${idempotency_key}`);
    expect(path(second.url)).toBe(path(first.url));
    expect(first.text).toContain("send of 1.25 USDC from hot to");
    const state = () =>
      page.evaluate(async (u) => {
        const html = new DOMParser().parseFromString(await (await fetch(u)).text(), "text/html");
        return html.getElementById("send-state")?.textContent;
      }, first.url);
    for (let i = 0; (await state()) !== "done"; i++) {
      expect(i).toBeLessThan(300);
      await Bun.sleep(100);
    }
    const third = await post(page, "/admin/wallet/send", fields);
    expect(path(third.url)).toBe(path(first.url));
    const reused = await post(page, "/admin/wallet/send", { ...fields, amount: "2" });
    expect(reused.status).toBe(409);
    expect(reused.text).toContain("already used for another send");
    const usd1 = await client.readContract({
      address: stable,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [address(FRIEND)],
    });
    expect(usd1 - usd0).toBe(parseUnits("1.25", 6));
    expect(await client.getTransactionCount({ address: address(HOT) })).toBe(hotNonce + 1);

    // A refused form shows the reason as an alert on the section's page, with a way back.
    await page.goto(`${serve.origin}/admin/wallet`);
    await page.selectOption("#send-from", "hot");
    await page.fill("#send-to", "friend-of-nobody");
    await page.fill("#send-amount", "1");
    const refused = await Promise.all([page.waitForNavigation(), page.click("#send button")]);
    expect(refused[0]?.status()).toBe(404);
    expect(await page.locator("#error[role=alert]").textContent()).toBe(
      'send failed: "friend-of-nobody" is not in the addressbook',
    );
    await Promise.all([page.waitForNavigation(), page.click('main a[href="/admin/wallet"]')]);
    expect(page.url()).toBe(`${serve.origin}/admin/wallet`);

    const form = (f: Record<string, string>) => ({ ...f, idempotency_key: crypto.randomUUID().replaceAll("-", "") });
    const noKey = await post(page, "/admin/wallet/send", form({ from: "admin", to: "hot", token: "eth", amount: "1" }));
    expect(noKey.status).toBe(400);
    expect(noKey.text).toContain('"admin" has no key file');
    for (const amount of ["1e5", "-1", "0", "1.0000000000000000001"]) {
      const bad = await post(page, "/admin/wallet/send", form({ from: "hot", to: "admin", token: "eth", amount }));
      expect(bad.status).toBe(400);
    }
    const extra = await post(
      page,
      "/admin/wallet/send",
      form({ from: "hot", to: "admin", token: "eth", amount: "1", gas: "1" }),
    );
    expect(extra.status).toBe(400);
    expect(extra.text).toContain("unknown key");
  });

  test("every write needs the CSRF token: 403 and nothing changes", async () => {
    const { page } = admin;
    await page.goto(`${serve.origin}/admin/wallet`);
    const before = readFileSync(join(etc(), "addressbook.json"), "utf8");
    const beforeCommands = readFileSync(join(etc(), "admin-commands.json"), "utf8");
    for (const [path, fields] of [
      ["/admin/wallet/addressbook", { name: "evil", address: address(7) }],
      ["/admin/wallet/generate", { name: "evil" }],
      ["/admin/wallet/send", { from: "hot", to: address(7), token: "eth", amount: "1" }],
      ["/admin/commands", { name: "evil", description: "", ports: "22", duration: "60", proto: "tcp" }],
      [`/admin/commands/${COMMAND}/remove`, {}],
    ] as const) {
      expect((await post(page, path, fields, false)).status).toBe(403);
    }
    expect(readFileSync(join(etc(), "addressbook.json"), "utf8")).toBe(before);
    expect(readFileSync(join(etc(), "admin-commands.json"), "utf8")).toBe(beforeCommands);
  });

  test("knock commands: edit, add and remove through the agent; bad values refused", async () => {
    const { page } = admin;
    await page.goto(`${serve.origin}/admin/commands`);
    const card = page.locator(`section[data-command="${COMMAND}"]`);
    await card.locator('input[name="ports"]').fill("22, 2222");
    await card.locator('input[name="duration"]').fill("900");
    await Promise.all([page.waitForNavigation(), card.locator('button[type="submit"]').first().click()]);
    expect(commands().commands[COMMAND]).toEqual({
      action: "knock",
      params: { allowed_ports: [22, 2222], default_duration: 900, proto: "tcp" },
    });
    expect(statSync(join(etc(), "admin-commands.json")).mode & 0o777).toBe(0o640);

    const suggested = await page.locator("#new-command-name").inputValue();
    expect(suggested).toMatch(/^[0-9a-f]{16}$/);
    await page.fill("#new-command-description", "open https for a deploy");
    await page.fill("#new-command-ports", "443");
    await page.selectOption("#new-command-proto", "udp");
    await Promise.all([page.waitForNavigation(), page.click("#new-command button[type=submit]")]);
    expect(commands().commands[suggested]).toEqual({
      action: "knock",
      description: "open https for a deploy",
      params: { allowed_ports: [443], default_duration: 300, proto: "udp" },
    });

    const before = readFileSync(join(etc(), "admin-commands.json"), "utf8");
    const edit = { description: "", duration: "60", proto: "tcp" };
    for (const [fields, why] of [
      [{ ...edit, ports: "0" }, "port 0"],
      [{ ...edit, ports: "22; reboot" }, "not a port list"],
      [{ ...edit, ports: "22", duration: "3601" }, "over an hour"],
      [{ ...edit, ports: "22", proto: "icmp" }, "protocol"],
    ] as const) {
      const r = await post(page, `/admin/commands/${COMMAND}`, fields);
      expect(`${why}: ${r.status}`).toBe(`${why}: 400`);
    }
    expect((await post(page, "/admin/commands", { name: COMMAND, ...edit, ports: "22" })).status).toBe(409);
    expect(readFileSync(join(etc(), "admin-commands.json"), "utf8")).toBe(before);

    await Promise.all([
      page.waitForNavigation(),
      page.locator(`section[data-command="${suggested}"] button.danger`).click(),
    ]);
    expect(Object.keys(commands().commands)).toEqual([COMMAND]);
    // A hand-broken file is named on the panel, not a bare 500.
    const good = readFileSync(join(etc(), "admin-commands.json"), "utf8");
    writeFileSync(join(etc(), "admin-commands.json"), '{"commands": {"x": {"action": "exec"}}}');
    const broken = await page.goto(`${serve.origin}/admin/commands`);
    expect(broken?.status()).toBe(503);
    expect(await page.locator("#error[role=alert]").textContent()).toContain("admin-commands.json");
    writeFileSync(join(etc(), "admin-commands.json"), good);
    // Command names are secrets: the action log lines never carry them.
    expect(serve.log()).toContain('"action":"command.add"');
    expect(serve.log()).not.toContain(suggested);
  });

  test("send a knock command from the admin's wallet: the transaction decrypts with the host key to that command", async () => {
    const { page } = admin;
    const seen = admin.errors.length; // the 4xx answers of the tests above are logged by the console too
    await page.goto(`${serve.origin}/admin/commands`);
    await page.selectOption("#send-command-name", COMMAND);
    await page.fill("#send-command-duration", "120");
    await page.click("#btn-send-command");
    await page.waitForFunction(() => document.getElementById("command-tx")?.textContent?.startsWith("0x"));
    expect(await page.locator("#status").textContent()).toContain("Command sent");
    const hash = (await page.locator("#command-tx").textContent()) as Hex;
    const tx = await chain().getTransaction({ hash });
    expect(tx.from.toLowerCase()).toBe(address(OWNER).toLowerCase());
    expect(tx.to?.toLowerCase()).toBe(addressOfPrivateKey(env.serverKey).toLowerCase());
    expect(tx.value).toBe(0n);
    const payload = decodeAdminCommand(env.serverKey, tx.input);
    expect(payload.command).toBe(COMMAND);
    expect(payload.params).toEqual({ duration: 120 });
    expect(Math.abs(payload.timestamp - Date.now() / 1000)).toBeLessThan(120);
    expect(admin.errors.slice(seen)).toEqual([]);

    // Another wallet (not admin.wallet_address) is told which wallet to connect; nothing is sent.
    await env.transferNft(0, OWNER, FRIEND);
    const other = await open(FRIEND, "/admin/login");
    await other.page.click("#btn-login");
    await other.page.waitForURL(`${serve.origin}/admin`);
    await other.page.goto(`${serve.origin}/admin/commands`);
    await other.page.click("#btn-send-command");
    await other.page.waitForFunction(() => document.getElementById("status")?.className === "error");
    expect(await other.page.locator("#status").textContent()).toContain(`Connect the admin wallet ${address(OWNER)}`);
    expect(other.requests).not.toContain("eth_sendTransaction");
    await env.transferNft(0, FRIEND, OWNER);
  });

  test("360 px, keyboard only: the admin pages fit, every control is named, focus is visible", async () => {
    const wp = await open(OWNER, "/admin/login");
    await tabTo(wp.page, "#btn-login");
    await Promise.all([wp.page.waitForURL(`${serve.origin}/admin`), wp.page.keyboard.press("Enter")]);
    for (const path of ["/admin", "/admin/jobs", "/admin/plans", "/admin/wallet", "/admin/commands"]) {
      await wp.page.goto(`${serve.origin}${path}`);
      expect(`${path} overflows by ${await overflow(wp.page)} px`).toBe(`${path} overflows by 0 px`);
      expect(await unnamedControls(wp.page)).toEqual([]);
      await tabTo(wp.page, 'nav a[href="/admin/wallet"]');
      expect(await focusRing(wp.page)).toBe("solid 3px");
      await screenshot(wp.page, `admin-${path.split("/")[2] ?? "vms"}-360`);
    }
    // The nav is usable by keyboard: Enter on a link opens that section.
    await wp.page.goto(`${serve.origin}/admin`);
    await tabTo(wp.page, 'nav a[href="/admin/jobs"]');
    await Promise.all([wp.page.waitForURL(`${serve.origin}/admin/jobs`), wp.page.keyboard.press("Enter")]);
    expect(await wp.page.locator('nav a[aria-current="page"]').textContent()).toBe("Jobs");
    expect(wp.errors).toEqual([]);
  });

  test("360 px, keyboard only: buy on the signup page to ready, every step announced in the live region", async () => {
    const wp = await open(3, "/");
    const announced: string[] = [];
    await wp.page.exposeFunction("__announce", (t: string) => announced.push(t));
    await wp.page.evaluate(() => {
      const el = document.getElementById("status")!;
      const w = window as unknown as { __announce: (t: string) => void };
      new MutationObserver(() => w.__announce(el.textContent ?? "")).observe(el, { childList: true, subtree: true });
    });
    expect(await wp.page.locator("#status").getAttribute("role")).toBe("status");
    expect(await wp.page.locator("#status").getAttribute("aria-live")).toBe("polite");
    expect(await overflow(wp.page)).toBe(0);
    expect(await unnamedControls(wp.page)).toEqual([]);

    await tabTo(wp.page, "#plan-select");
    expect(await focusRing(wp.page)).toBe("solid 3px");
    await tabTo(wp.page, "#days-input");
    await wp.page.keyboard.press("Control+A");
    await wp.page.keyboard.type("2");
    expect(await wp.page.locator("#total-cost").textContent()).toBe("2.00");
    await tabTo(wp.page, "#btn-connect");
    await wp.page.keyboard.press("Enter");
    await wp.page.waitForFunction(() => document.getElementById("wallet-address")?.textContent?.startsWith("0x"));
    await tabTo(wp.page, "#btn-purchase");
    expect(await focusRing(wp.page)).toBe("solid 3px");
    await wp.page.keyboard.press("Enter");
    await wp.page.waitForFunction(
      () => document.getElementById("status")?.textContent === "Your server is ready.",
      null,
      {
        timeout: 90_000,
      },
    );
    expect(announced).toContain("Wallet connected.");
    expect(announced).toContain("Confirm the purchase in your wallet…");
    expect(announced.at(-1)).toBe("Your server is ready.");
    expect(await overflow(wp.page)).toBe(0);
    expect(await unnamedControls(wp.page)).toEqual([]);
    await screenshot(wp.page, "signup-ready-360");
    expect(wp.errors).toEqual([]);
  });

  test("VMs: stop and destroy through the provisioner; destroy asks first and Cancel keeps the VM", async () => {
    const vms = async () =>
      JSON.parse((await runBlockhost(["vm", "list", "--json"], { root: env.root })).stdout) as Array<{
        vm_name: string;
        status: string;
        owner_wallet: string | null;
      }>;
    const vm = (await vms()).find((v) => v.status === "active")!;
    const wp = await open(OWNER, "/admin/login");
    await wp.page.click("#btn-login");
    await wp.page.waitForURL(`${serve.origin}/admin`);
    const row = wp.page.locator(`tr[data-vm="${vm.vm_name}"]`);
    expect(await row.locator("td").nth(1).textContent()).toBe("active");
    await Promise.all([wp.page.waitForNavigation(), row.getByRole("button", { name: "Stop" }).click()]);
    expect(await wp.page.locator("p.ok[role=status]").textContent()).toBe(`stop ${vm.vm_name}: done`);

    await Promise.all([wp.page.waitForNavigation(), row.getByRole("button", { name: "Destroy" }).click()]);
    expect(await wp.page.locator("#h-confirm").textContent()).toBe(`Destroy ${vm.vm_name}?`);
    await Promise.all([wp.page.waitForNavigation(), wp.page.getByRole("link", { name: "Cancel" }).click()]);
    expect((await vms()).find((v) => v.vm_name === vm.vm_name)?.status).toBe("active");

    await Promise.all([wp.page.waitForNavigation(), row.getByRole("button", { name: "Destroy" }).click()]);
    await tabTo(wp.page, "main form button.danger");
    await Promise.all([wp.page.waitForNavigation(), wp.page.keyboard.press("Enter")]);
    expect(await wp.page.locator("p.ok[role=status]").textContent()).toBe(`destroy ${vm.vm_name}: done`);
    expect((await vms()).find((v) => v.vm_name === vm.vm_name)?.status).toBe("destroyed");
    expect(await wp.page.locator(`tr[data-vm="${vm.vm_name}"]`).count()).toBe(0);
    expect(serve.log()).toContain(`"action":"vm.destroy","wallet":"${address(OWNER)}","vm":"${vm.vm_name}"`);
    expect(wp.errors).toEqual([]);
  });
});
