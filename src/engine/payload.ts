import { hexToBytes, type Hex } from "viem";
import { eciesDecrypt } from "../crypto/ecies.ts";
import { encryptWithSignature, utf8 } from "../crypto/symmetric.ts";

const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

/** A purchase payload read with the server key: the buyer's signature, or why there is none. */
export type PayloadReading = { signature: Hex; problem: null } | { signature: null; problem: string };

/**
 * The buyer's wallet signature from `userEncrypted`: ECIES to the server key, holding the
 * signature as text. Anything else (empty, a raw signature — public on-chain, so it must not key
 * the NFT — random bytes, another client's format) yields no signature and the reason: the
 * purchase is still served, with an NFT that carries no details (the holder reads them from the
 * signup page after a wallet-signature challenge).
 */
export function readPayload(serverKey: Uint8Array, userEncrypted: Hex): PayloadReading {
  const none = (problem: string): PayloadReading => ({ signature: null, problem });
  if (userEncrypted === "0x" || userEncrypted.length < 4) return none("payload is empty (no encrypted signature)");
  if (SIGNATURE_RE.test(userEncrypted))
    return none("payload is a raw signature, not ECIES-encrypted to the server key");
  let text: string;
  try {
    text = utf8(eciesDecrypt(serverKey, hexToBytes(userEncrypted))).trim();
  } catch (e) {
    return none(`payload does not decrypt with the server key (${(e as Error).message})`);
  }
  if (!SIGNATURE_RE.test(text)) return none("decrypted payload is not a 65-byte hex signature");
  return { signature: text as Hex, problem: null };
}

/** What the NFT carries for its holder: `{hostname, port, username}`, sealed with the signature's key. */
export function connectionDetails(hostname: string, username: string): string {
  return JSON.stringify({ hostname, port: 22, username });
}

export function sealConnectionDetails(signature: Hex, hostname: string, username: string): Hex {
  return encryptWithSignature(signature, connectionDetails(hostname, username));
}

/** The address a customer connects to: the public IPv6 when there is one, else the IPv4. */
export function publicAddress(vm: { ip_address: string | null; ipv6_address: string | null }): string {
  return vm.ipv6_address ?? vm.ip_address ?? "";
}
