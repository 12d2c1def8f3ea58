/** The wallet half of "My servers", loaded on demand: the sign-in, the signed reinstall confirmation, extending. */
import type { Hash } from "viem";
import type { PanelPay } from "../public/panel/extend.tsx";
import type { SiweChallenge } from "../session/siwe.ts";
import { signInWithWallet, siweMessage } from "./siwe.ts";
import { extendSubscription } from "./subscription-pay.ts";
import { chainFor, connectWallet, ensureChain, signText } from "./wallet.ts";

export async function signIn(): Promise<void> {
  await signInWithWallet("/my/login/challenge", "/my/login");
}

/** The EIP-4361 confirmation of a reinstall: the exact fields the server issued, signed by this wallet. */
export async function signChallenge(challenge: SiweChallenge): Promise<{ message: string; signature: string }> {
  const account = await connectWallet();
  const message = siweMessage(challenge, account);
  return { message, signature: await signText(account, message) };
}

/** Pay `days` more of subscription `id` with the signup page's contract call; the expiry the chain now holds. */
export async function extend(pay: PanelPay, id: bigint, days: bigint): Promise<{ hash: Hash; expiresAt: bigint }> {
  const account = await connectWallet();
  const chain = chainFor(pay.chainId, pay.rpcUrl);
  await ensureChain(chain);
  return extendSubscription({ chain, subscriptions: pay.subscriptions, stablecoin: pay.stablecoin }, account, id, days);
}
