/** Headless Chromium for web tests, with an injected EIP-1193 wallet backed by a test key and anvil. */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { createWalletClient, type Hex, http, type TransactionRequest } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { REPO } from "./binary.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = join(REPO, "test-results");

/** Why this machine cannot run browser tests, or undefined when it can. */
export function chromiumUnavailable(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM} (apt-get install chromium)`;
}

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      // The hosts under test serve self-signed certificates; with the error only waived per context, Chromium
      // still counts the page as insecure and cancels its downloads (the wizard's config backup).
      "--ignore-certificate-errors",
    ],
  });
}

export interface WalletOptions {
  privateKey: Hex;
  /** The chain's RPC (anvil on loopback): reads are proxied to it, transactions signed here and sent to it. */
  rpcUrl: string;
  chainId: number;
}

export interface WalletPage {
  page: Page;
  context: BrowserContext;
  address: Hex;
  /** Every wallet request the page made, by method (e.g. count personal_sign prompts). */
  requests: string[];
  /** Page errors and console errors seen so far (a journey should end with none). */
  errors: string[];
  close(): Promise<void>;
}

interface RpcCall {
  method: string;
  params?: unknown[];
}

/**
 * A fresh context whose pages see `window.ethereum`: `eth_requestAccounts` answers the key's address,
 * `personal_sign` signs with the key, `eth_sendTransaction` is signed here and sent to the RPC, and every
 * other method (reads, receipts, `eth_chainId`) goes to the RPC. `wallet_switchEthereumChain` to the
 * configured chain succeeds; to any other chain it fails with 4902 like a wallet that does not know it.
 */
export async function walletPage(browser: Browser, opts: WalletOptions): Promise<WalletPage> {
  const account = privateKeyToAccount(opts.privateKey);
  const wallet = createWalletClient({ account, transport: http(opts.rpcUrl) });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });

  const rpc = async (call: RpcCall): Promise<unknown> => {
    const res = await fetch(opts.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: call.method, params: call.params ?? [] }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
    return body.result;
  };

  await page.exposeFunction("__testWallet", async (call: RpcCall) => {
    requests.push(call.method);
    const params = call.params ?? [];
    switch (call.method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return { result: [account.address] };
      case "eth_chainId":
        return { result: `0x${opts.chainId.toString(16)}` };
      case "wallet_switchEthereumChain": {
        const wanted = Number((params[0] as { chainId: string }).chainId);
        if (wanted === opts.chainId) return { result: null };
        return { error: { code: 4902, message: `Unrecognized chain ID ${wanted}` } };
      }
      case "wallet_addEthereumChain":
        return { result: null };
      case "personal_sign":
        return { result: await account.signMessage({ message: { raw: params[0] as Hex } }) };
      case "eth_sendTransaction": {
        const tx = params[0] as TransactionRequest & { gas?: Hex; value?: Hex; data?: Hex; to?: Hex };
        const hash = await wallet.sendTransaction({
          account,
          chain: null,
          to: tx.to,
          data: tx.data,
          value: tx.value !== undefined ? BigInt(tx.value) : undefined,
          gas: tx.gas !== undefined ? BigInt(tx.gas) : undefined,
        });
        return { result: hash };
      }
      default:
        try {
          return { result: await rpc(call) };
        } catch (e) {
          return { error: { code: (e as { code?: number }).code ?? -32603, message: (e as Error).message } };
        }
    }
  });
  await page.addInitScript(() => {
    type Answer = { result?: unknown; error?: { code: number; message: string } };
    const w = window as unknown as { ethereum: unknown; __testWallet: (call: unknown) => Promise<Answer> };
    const listeners: Record<string, Array<(x: unknown) => void>> = {};
    w.ethereum = {
      isTestWallet: true,
      request: async (call: { method: string; params?: unknown[] }) => {
        const answer = await w.__testWallet({ method: call.method, params: call.params ?? [] });
        if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
        return answer.result;
      },
      on: (event: string, fn: (x: unknown) => void) => {
        listeners[event] = [...(listeners[event] ?? []), fn];
      },
      removeListener: (event: string, fn: (x: unknown) => void) => {
        listeners[event] = (listeners[event] ?? []).filter((f) => f !== fn);
      },
    };
  });
  return { page, context, address: account.address, requests, errors, close: () => context.close() };
}

/** Save a full-page screenshot as test-results/<name>.png (a test artifact, gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
