import { hexToBytes, type Hex } from "viem";
import { eciesDecrypt } from "../crypto/ecies.ts";
import { encryptWithSignature, utf8 } from "../crypto/symmetric.ts";

const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

/** A purchase payload read with the server key: the buyer's signature (and OS choice), or why there is none. */
export type PayloadReading =
  | { signature: Hex; problem: null; os?: string }
  | { signature: null; problem: string; os?: undefined };

/** The optional second line of a purchase payload: the OS the buyer chose (`os=debian-13`). */
const OS_LINE = /^os=([a-z0-9.-]{1,32})$/;

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
  // The signup page may add the buyer's OS choice on a second line; older pages send the signature alone.
  const [first = "", second, ...rest] = text.split("\n");
  const os = second === undefined ? undefined : OS_LINE.exec(second.trim())?.[1];
  if (!SIGNATURE_RE.test(first.trim()) || rest.length > 0 || (second !== undefined && os === undefined))
    return none("decrypted payload is not a 65-byte hex signature");
  return { signature: first.trim() as Hex, problem: null, ...(os ? { os } : {}) };
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
