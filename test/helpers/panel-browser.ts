// "My servers" driven in Chromium as a customer does it: sign in, press a server's buttons, read the status line.
import type { PrivateKeyAccount } from "viem/accounts";
import type { WalletPage } from "./browser.ts";
import { walletSshLogin } from "./libvirt-host.ts";

/** Open /my and sign in with the page's injected wallet (one signature). */
export async function panelSignIn(wp: WalletPage, origin: string): Promise<void> {
  await wp.page.goto(`${origin}/my`);
  await wp.page.click("#btn-panel-signin");
  await wp.page.waitForSelector("#panel-wallet", { timeout: 60_000 }).catch(async (e) => {
    throw new Error(`not signed in; the page says ${JSON.stringify(await panelStatus(wp))}: ${e}`);
  });
}

export const panelStatus = (wp: WalletPage) => wp.page.locator("#status").textContent();
export const serverCard = (wp: WalletPage, name: string) => wp.page.locator(`li[data-server="${name}"]`);

/** Wait until the status line matches `re` (the page's answer to an action, or the followed job's end). */
export async function waitPanelStatus(wp: WalletPage, re: RegExp, timeoutMs = 60_000): Promise<void> {
  await wp.page
    .waitForFunction((src) => new RegExp(src).test(document.getElementById("status")?.textContent ?? ""), re.source, {
      timeout: timeoutMs,
    })
    .catch(async (e) => {
      throw new Error(`status is ${JSON.stringify(await panelStatus(wp))}, not ${re}: ${e}`);
    });
}

/** Press one of a server's power buttons ("Start", "Shut down", "Reboot", "Power off") and wait for the job's end. */
export async function panelPower(wp: WalletPage, name: string, label: string, timeoutMs = 10 * 60_000): Promise<void> {
  await serverCard(wp, name).getByRole("button", { name: label, exact: true }).click();
  await waitPanelStatus(wp, new RegExp(`^${label} ${name}: (done\\.|failed)`), timeoutMs);
  const said = await panelStatus(wp);
  if (!said?.endsWith("done.")) throw new Error(`${label} ${name}: ${said}`);
}

/** Choose `os` and press Reinstall (the wallet confirms by signature); resolves when the engine's job is done. */
export async function panelReinstall(wp: WalletPage, name: string, os: string, timeoutMs = 20 * 60_000): Promise<void> {
  await serverCard(wp, name).locator('[data-field="os-choice"]').selectOption(os);
  await serverCard(wp, name)
    .getByRole("button", { name: /Reinstall/ })
    .click();
  await waitPanelStatus(wp, new RegExp(`^Reinstall ${name}(: done\\.| failed)`), timeoutMs);
  const said = await panelStatus(wp);
  if (!said?.endsWith("done.")) throw new Error(`reinstall ${name}: ${said}`);
}

/** Retry a wallet SSH login until the guest accepts it (it is booting); the successful login. */
export async function sshReady(address: string, signer: PrivateKeyAccount, deadlineMs = 25 * 60_000) {
  const until = performance.now() + deadlineMs;
  for (;;) {
    const r = await walletSshLogin(address, "admin", signer, 180_000);
    if (r.ok) return r;
    if (performance.now() > until) throw new Error(`no wallet SSH login to ${address}: ${r.error}`);
    await Bun.sleep(1000);
  }
}
