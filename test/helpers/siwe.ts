/** Sign a server's EIP-4361 challenge the way the browser does (src/web/client/siwe.ts), optionally altered by an attacker. */
import type { LocalAccount } from "viem/accounts";
import { createSiweMessage } from "viem/siwe";
import type { SiweChallenge } from "../../src/web/session/index.ts";

export type SiwePatch = Partial<Parameters<typeof createSiweMessage>[0]>;

export async function signChallenge(
  challenge: SiweChallenge,
  who: LocalAccount,
  patch: SiwePatch = {},
): Promise<{ message: string; signature: `0x${string}` }> {
  const message = createSiweMessage({
    ...challenge,
    issuedAt: new Date(challenge.issuedAt),
    expirationTime: new Date(challenge.expirationTime),
    address: who.address,
    ...patch,
  });
  return { message, signature: await who.signMessage({ message }) };
}
