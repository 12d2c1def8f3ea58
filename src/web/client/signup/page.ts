/** Shared state of the signup page in the browser: page data, the chain, the connected account, DOM helpers. */
import { BlockhostError } from "../../../core/errors.ts";
import type { Address, Hash, TransactionReceipt } from "viem";
import type { SignupData } from "../../public/signup-data.ts";
import { mined as minedOn, type PayTarget } from "../subscription-pay.ts";
import { chainFor, connectWallet, ensureChain, pageData, publicClient, walletClient } from "../wallet.ts";

export const data = pageData<SignupData>();
export const chain = chainFor(data.chainId, data.rpcUrl);
export const payTarget: PayTarget = { chain, subscriptions: data.subscriptions, stablecoin: data.stablecoin };
let account: Address | null = null;

/** Connect (once) and make sure the wallet is on the host's chain. */
export async function connect(): Promise<Address> {
  account ??= await connectWallet();
  await ensureChain(chain);
  return account;
}

export const connected = () => account;
export const reader = () => publicClient(chain);
export const writer = (from: Address) => walletClient(from, chain);

/** Wait for a transaction's receipt; a revert is an error. */
export const mined = (hash: Hash): Promise<TransactionReceipt> => minedOn(payTarget, hash);

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new BlockhostError("E_INTERNAL", `page element #${id} missing`);
  return el as T;
}

/** An element with text (never HTML: chain data and server replies are shown as text only). */
export function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = "",
  attrs: Record<string, string> = {},
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** A link to a transaction on the chain's explorer, or the bare hash on a devnet. */
export function txLink(hash: Hash): HTMLElement {
  if (!data.explorer) return make("code", hash);
  return make("a", `${hash.slice(0, 10)}… on the block explorer`, {
    href: `${data.explorer}/tx/${hash}`,
    rel: "noopener noreferrer",
    target: "_blank",
  });
}

/** JSON from this host's API; an error with the server's one-line reason otherwise. */
export async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(path, { ...init, headers: { "content-type": "application/json", ...(init?.headers ?? {}) } });
  const body = (await r.json().catch(() => ({}))) as T & { error?: string };
  if (!r.ok) throw new BlockhostError("E_STATE", body.error ?? `request failed (${r.status})`);
  return body;
}
