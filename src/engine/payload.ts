/** The buyer's encrypted signature and the sealed connection details. */
import { hexToBytes, type Hex } from "viem";
import { eciesDecrypt } from "../crypto/ecies.ts";
import { encryptWithSignature, utf8 } from "../crypto/symmetric.ts";
import { BlockhostError } from "../core/errors.ts";

const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

/**
 * The buyer's wallet signature from `userEncrypted`: ECIES to the server key, holding the
 * signature as text. A raw signature as payload is refused (it would be public on-chain, so
 * anyone could read the NFT's connection details — the original's test shortcut, §10).
 */
export function signatureFromPayload(serverKey: Uint8Array, userEncrypted: Hex): Hex {
  if (userEncrypted === "0x" || userEncrypted.length < 4) throw new BlockhostError("E_PAYLOAD_INVALID", "subscription payload is empty (no encrypted signature)");
  if (SIGNATURE_RE.test(userEncrypted)) throw new BlockhostError("E_PAYLOAD_INVALID", "subscription payload is a raw signature, not ECIES-encrypted to the server key; refused");
  let text: string;
  try {
    text = utf8(eciesDecrypt(serverKey, hexToBytes(userEncrypted))).trim();
  } catch (e) {
    throw new BlockhostError("E_PAYLOAD_INVALID", `subscription payload does not decrypt with the server key (${(e as Error).message})`);
  }
  if (!SIGNATURE_RE.test(text)) throw new BlockhostError("E_PAYLOAD_INVALID", "decrypted subscription payload is not a 65-byte hex signature");
  return text as Hex;
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
