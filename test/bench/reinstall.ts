/**
 * Reinstall from the customer panel (Chromium: the click → the first wallet SSH login on the fresh disk)
 * beside P1 (`vm create` → first wallet SSH login, guest-boot.ts), both on the same libvirt host in one run.
 */
import type { Browser } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";
import { chromiumUnavailable, launchChromium, walletPage } from "../helpers/browser.ts";
import type { EngineProcess } from "../helpers/engine-env.ts";
import { startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import { ensureLibvirtd, libvirtUnavailable } from "../helpers/libvirt-host.ts";
import { panelReinstall, panelSignIn, sshReady } from "../helpers/panel-browser.ts";
import { type ServeProcess, startServe, writeHttpsConfig } from "../helpers/serve.ts";
import type { BenchRow } from "./agent.ts";
import { createToLoginMs } from "./guest-boot.ts";

const s = (ms: number) => (ms / 1000).toFixed(1);

export async function benchReinstall(): Promise<BenchRow[]> {
  const why = libvirtUnavailable() ?? chromiumUnavailable();
  if (why) return [{ name: `reinstall benchmark skipped: ${why}`, value: "-", unit: "" }];
  const daemons = await ensureLibvirtd();
  const host = await startLibvirtEngineHost({ guestAgentTimeoutS: 1500, oses: ["debian-13"] });
  let engine: EngineProcess | undefined;
  let serve: ServeProcess | undefined;
  let browser: Browser | undefined;
  try {
    const env = host.env;
    const signer = privateKeyToAccount(env.anvil.accounts[1]!.privateKey);
    // P1 first, while nothing else runs on the host: vm create → first wallet SSH login (its VM is destroyed after).
    const p1 = await createToLoginMs(
      env.root,
      "debian-12",
      privateKeyToAccount(env.anvil.accounts[3]!.privateKey),
      "bench-p1",
    );
    await writeHttpsConfig(env.root);
    engine = env.startEngine();
    serve = await startServe(env.root);
    const bought = await env.buy(1, 1n);
    const vm = await env.servedVm(bought.subscriptionId, "the bench server", { gecos: true, everyMs: 1000 });
    await sshReady(vm.ipv6_address!, signer);
    browser = await launchChromium();
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[1]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    await panelSignIn(wp, serve.origin);
    const clicked = performance.now();
    await panelReinstall(wp, vm.vm_name, "debian-12");
    const jobDone = performance.now();
    await sshReady(vm.ipv6_address!, signer);
    const loggedIn = performance.now();
    await wp.close();
    return [
      { name: "reinstall (Debian 12): click → first wallet SSH login", value: s(loggedIn - clicked), unit: "s" },
      { name: "  of which click → engine job done (teardown, create)", value: s(jobDone - clicked), unit: "s" },
      { name: "  of which job done → wallet SSH login (boot)", value: s(loggedIn - jobDone), unit: "s" },
      { name: "  baseline P1: vm create → first wallet SSH login, same run", value: s(p1.total), unit: "s" },
      { name: "  reinstall / P1", value: ((loggedIn - clicked) / p1.total).toFixed(2), unit: "×" },
    ];
  } finally {
    await browser?.close();
    await serve?.stop();
    await engine?.stop();
    await host.stop();
    daemons.stop();
  }
}
