/** The wallet half of "My servers", loaded on demand: the sign-in and the signed reinstall confirmation. */
import type { SiweChallenge } from "../session/siwe.ts";
import { signInWithWallet, siweMessage } from "./siwe.ts";
import { connectWallet, signText } from "./wallet.ts";

export async function signIn(): Promise<void> {
  await signInWithWallet("/my/login/challenge", "/my/login");
}

/** The EIP-4361 confirmation of a reinstall: the exact fields the server issued, signed by this wallet. */
export async function signChallenge(challenge: SiweChallenge): Promise<{ message: string; signature: string }> {
  const account = await connectWallet();
  const message = siweMessage(challenge, account);
  return { message, signature: await signText(account, message) };
}
