/** A running `blockhost wizard` (the compiled binary) on loopback under a temp root with its own agent. */
import type { Browser, Page } from "playwright-core";
import { startAgent, type RunningAgent } from "./agent.ts";
import type { Anvil } from "./anvil.ts";
import { walletPage, type WalletPage } from "./browser.ts";
import { SETUP_ACCOUNT } from "./setup-host.ts";
import { blockhostBinary, tempDir } from "./binary.ts";

export interface RunningWizard {
  readonly root: string;
  readonly url: string;
  readonly otp: string;
  /** The certificate fingerprint the wizard printed (SHA-256, colon hex). */
  readonly fingerprint: string;
  /** Everything it printed on stdout (the console) up to the code. */
  readonly console: string;
  /** Its stderr (the journal's share), read so far. */
  log(): string;
  readonly agent: RunningAgent;
  stop(): Promise<void>;
}

/** `hostAgent` starts the agent on the wizard's root (default: the real agent with the real binaries). */
export async function startWizard(
  hostAgent: (root: string) => Promise<RunningAgent> = (root) => startAgent({ root }),
): Promise<RunningWizard> {
  const temp = tempDir("blockhost-wizard-");
  const agent = await hostAgent(temp.dir);
  const proc = Bun.spawn([blockhostBinary(), "wizard", "--listen", "127.0.0.1", "--port", "0"], {
    cwd: "/",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: temp.dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) err += new TextDecoder().decode(chunk);
  })();
  let out = "";
  const decoder = new TextDecoder();
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  while (!/^Code: (\S+)$/m.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`wizard exited early: ${out}${err}`);
    out += decoder.decode(value);
  }
  reader.releaseLock();
  const url = /^URL: (https:\/\/127\.0\.0\.1:\d+)\/$/m.exec(out)![1]!;
  const otp = /^Code: (\S+)$/m.exec(out)![1]!;
  const fingerprint = /^Certificate SHA-256: (\S+)$/m.exec(out)![1]!;
  return {
    root: temp.dir,
    url,
    otp,
    fingerprint,
    console: out,
    log: () => err,
    agent,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      await agent.stop();
      temp.cleanup();
    },
  };
}

/** A page with the admin's injected wallet (the setup tests' admin account on `anvil`). */
export function adminWallet(browser: Browser, anvil: Anvil): Promise<WalletPage> {
  return walletPage(browser, {
    privateKey: anvil.accounts[SETUP_ACCOUNT.admin]!.privateKey,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
  });
}

/** Log in with the one-time code; the page ends on the wallet gate. */
export async function logIn(page: Page, wizard: RunningWizard): Promise<void> {
  await page.goto(`${wizard.url}/login`);
  await page.fill("#otp", wizard.otp);
  await page.click("button[type=submit]");
  await page.waitForURL("**/wizard/wallet");
}

/** Pass the wallet gate: connect and sign the public secret shown. */
export async function signIn(page: Page): Promise<void> {
  await page.click("#connect-sign");
  await page.waitForSelector("text=Verified:");
}
