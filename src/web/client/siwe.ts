/**
 * Sign-In with Ethereum in the browser: ask the server for the EIP-4361 fields, build the message
 * with the wallet's address, have the wallet `personal_sign` it, post it back. Used by every wallet
 * sign-in page (admin, reveal, customer panel).
 */
import type { Address, Hex } from "viem";
import { createSiweMessage } from "viem/siwe";
import { BlockhostError } from "../../core/errors.ts";
import type { SiweChallenge } from "../session/siwe.ts";
import { connectWallet, setStatus, signText } from "./wallet.ts";

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await r.json().catch(() => ({}))) as T & { error?: string };
  if (!r.ok) throw new BlockhostError("E_AUTH_DENIED", answer.error ?? `${path} answered ${r.status}`);
  return answer;
}

/** The EIP-4361 text for `challenge` signed by `address` (exactly what the server rebuilds and checks). */
export function siweMessage(challenge: SiweChallenge, address: Address): string {
  return createSiweMessage({
    ...challenge,
    address,
    issuedAt: new Date(challenge.issuedAt),
    expirationTime: new Date(challenge.expirationTime),
  });
}

/**
 * Sign in: POST `challengePath` for the fields, sign them with the wallet, POST `{message, signature}`
 * to `submitPath`, and return its JSON answer. `onMessage` sees the text before the wallet shows it.
 */
export async function signInWithWallet<T>(
  challengePath: string,
  submitPath: string,
  opts: { account?: Address; onMessage?: (message: string) => void } = {},
): Promise<T> {
  const account = opts.account ?? (await connectWallet());
  const challenge = await postJson<SiweChallenge>(challengePath, {});
  const message = siweMessage(challenge, account);
  opts.onMessage?.(message);
  setStatus("Check the sign-in message in your wallet and sign it…");
  const signature: Hex = await signText(account, message);
  return await postJson<T>(submitPath, { message, signature });
}
