// "My servers" in Chromium against ONE real libvirt VM (TCG): power, reboot, reinstall, transfer, suspension.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { decryptWithSignature, utf8 } from "../../src/crypto/symmetric.ts";
import { anvilAvailable } from "../helpers/anvil.ts";
import { runBlockhost } from "../helpers/binary.ts";
import { chromiumUnavailable, launchChromium, type WalletPage, walletPage } from "../helpers/browser.ts";
import { type EngineEnv, type EngineProcess, eventually, type Purchase, type VmJson } from "../helpers/engine-env.ts";
import { type LibvirtEngineHost, startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import { ensureLibvirtd, libvirtUnavailable, virshOut, walletSshLogin } from "../helpers/libvirt-host.ts";
import {
  panelPower,
  panelReinstall,
  panelSignIn,
  serverCard,
  sshReady,
  waitPanelStatus,
} from "../helpers/panel-browser.ts";
import { type ServeProcess, startServe, writeHttpsConfig } from "../helpers/serve.ts";

setDefaultTimeout(30 * 60_000); // TCG on a shared 2-core machine: one boot is ~65 s quiet, many minutes under load

const unavailable =
  libvirtUnavailable() ??
  chromiumUnavailable() ??
  (anvilAvailable() ? undefined : "anvil (linux-x64) is not available");
if (unavailable) console.log(`skip: My servers on a real libvirt VM: ${unavailable}`);

const BUYER = 1;
const NEW_HOLDER = 6;

describe.skipIf(Boolean(unavailable))("My servers in Chromium against one real libvirt VM", () => {
  let daemons: { stop: () => void };
  let host: LibvirtEngineHost;
  let env: EngineEnv;
  let engine: EngineProcess;
  let serve: ServeProcess;
  let browser: Browser;
  let bought: Purchase;
  let vm: VmJson;
  let buyer: WalletPage;
  const pages: WalletPage[] = [];

  const key = (i: number) => privateKeyToAccount(env.anvil.accounts[i]!.privateKey);
  const domstate = () => virshOut("domstate", vm.vm_name).out;
  const consoleLog = () => {
    try {
      return readFileSync(join(env.root, "var/lib/libvirt/blockhost/vms", vm.vm_name, "console.log"), "utf8");
    } catch {
      return "";
    }
  };
  const loginPrompts = () => consoleLog().match(/ login: /g)?.length ?? 0;
  const guestSh = async (script: string) => {
    const r = await host.agent.client.call("virsh-guest-exec", {
      name: vm.vm_name,
      command: ["/bin/sh", "-c", script],
      timeout: 300,
    });
    return { code: Number(r.exitcode), out: String(r.stdout ?? "") };
  };
  const open = async (account: number) => {
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[account]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    pages.push(wp);
    await panelSignIn(wp, serve.origin);
    return wp;
  };

  beforeAll(async () => {
    daemons = await ensureLibvirtd();
    host = await startLibvirtEngineHost({
      guestAgentTimeoutS: 1500,
      engine: { stop_grace_ms: 300 },
      oses: ["debian-13"],
    });
    env = host.env;
    await writeHttpsConfig(env.root);
    engine = env.startEngine();
    serve = await startServe(env.root);
    browser = await launchChromium();
    bought = await env.buy(BUYER, 1n);
    vm = await env.servedVm(bought.subscriptionId, "VM + NFT + GECOS", { gecos: true, everyMs: 1000 });
    await sshReady(vm.ipv6_address!, key(BUYER));
  }, 45 * 60_000);

  afterAll(async () => {
    for (const p of pages) await p.close().catch(() => {});
    await browser?.close();
    await serve?.stop();
    await engine?.stop();
    await host?.stop();
    daemons?.stop();
  }, 120_000);

  test("sign in; ACPI shut down → the domain is shut off; start → running, and the wallet logs in again", async () => {
    buyer = await open(BUYER);
    expect(await serverCard(buyer, vm.vm_name).textContent()).toContain(vm.ip_address!);
    await panelPower(buyer, vm.vm_name, "Shut down");
    expect(domstate()).toBe("shut off");
    await panelPower(buyer, vm.vm_name, "Start");
    expect(domstate()).toBe("running");
    expect((await sshReady(vm.ipv6_address!, key(BUYER))).output).toBe("admin");
  });

  test("reboot → the guest boots again: a new login prompt on its console, a new boot id", async () => {
    await eventually(() => loginPrompts() > 0, "the login prompt after start", 500);
    const bootId = (await guestSh("cat /proc/sys/kernel/random/boot_id")).out.trim();
    const prompts = loginPrompts();
    await panelPower(buyer, vm.vm_name, "Reboot");
    await eventually(() => loginPrompts() > prompts, "a new login prompt on the console after the reboot", 500);
    expect(domstate()).toBe("running");
    expect((await guestSh("cat /proc/sys/kernel/random/boot_id")).out.trim()).not.toBe(bootId);
  });

  test("power off → shut off; reinstall to Debian 13: same addresses, new host keys, the NFT's details still open, SSH by wallet works", async () => {
    const hostKey = (await guestSh("cat /etc/ssh/ssh_host_ed25519_key.pub")).out;
    // Force off first (the last power action), then reinstall the stopped server.
    await panelPower(buyer, vm.vm_name, "Power off");
    expect(domstate()).toBe("shut off");
    await panelReinstall(buyer, vm.vm_name, "debian-13");
    const login = await sshReady(vm.ipv6_address!, key(BUYER));
    expect(login.output).toBe("admin");
    expect((await guestSh("cat /etc/debian_version")).out).toMatch(/^13\./);
    const addrs = (await guestSh("ip -o addr show scope global")).out;
    expect(addrs).toContain(`${vm.ip_address}/`);
    expect(addrs).toContain(`${vm.ipv6_address}/`);
    expect((await guestSh("cat /etc/ssh/ssh_host_ed25519_key.pub")).out).not.toBe(hostKey);
    const details = JSON.parse(utf8(decryptWithSignature(bought.signature, await env.nftPayload(vm.nft_token_id!))));
    expect(details).toEqual({ hostname: vm.ipv6_address!, port: 22, username: "admin" });
    const after = (await env.vmOf(vm.subscription_id!))!;
    expect(after).toMatchObject({ ip_address: vm.ip_address, ipv6_address: vm.ipv6_address, status: "active" });
    await buyer.page.waitForFunction(
      (name) => document.querySelector(`li[data-server="${name}"] [data-field="os"]`)?.textContent?.includes("13"),
      vm.vm_name,
    );
  });

  test("after an NFT transfer the old wallet is refused (panel and SSH) and the new one allowed", async () => {
    await env.transferNft(vm.nft_token_id!, BUYER, NEW_HOLDER);
    await serverCard(buyer, vm.vm_name).getByRole("button", { name: "Reboot", exact: true }).click();
    await waitPanelStatus(buyer, new RegExp(`this wallet does not hold a server named ${vm.vm_name}`));
    await eventually(
      async () => (await env.vmOf(vm.subscription_id!))?.gecos_synced === true,
      "GECOS synced to the new holder",
      1000,
    );
    const fresh = await open(NEW_HOLDER);
    expect(await serverCard(fresh, vm.vm_name).count()).toBe(1);
    expect((await sshReady(vm.ipv6_address!, key(NEW_HOLDER))).output).toBe("admin");
    const old = await walletSshLogin(vm.ipv6_address!, "admin", key(BUYER), 180_000);
    expect(old.ok).toBe(false);
    expect(old.error).toMatch(/refused|authentication methods failed/);
  });

  test("a suspended server refuses start with a reason to extend", async () => {
    const holder = pages.at(-1)!;
    const expiry = Math.floor(Date.parse((await env.vmOf(vm.subscription_id!))!.expires_at) / 1000);
    const gc = await runBlockhost(["gc", "--execute"], {
      root: env.root,
      env: { BLOCKHOST_NOW: String(expiry + 3600) },
    });
    expect(gc.stdout).toContain(`suspended ${vm.vm_name}`);
    expect(domstate()).toBe("shut off");
    await serverCard(holder, vm.vm_name).getByRole("button", { name: "Start", exact: true }).click();
    await waitPanelStatus(holder, /suspended since its subscription expired.*extend the subscription/);
    expect(domstate()).toBe("shut off");
  });
});
