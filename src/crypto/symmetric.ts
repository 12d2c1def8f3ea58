/** Signature-keyed AES-256-GCM, the NFT payload format. */
import { gcm } from "@noble/ciphers/aes.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BlockhostError } from "../core/errors.ts";
import { bytesToHexPlain, hexToBytesStrict } from "./hex.ts";

/**
 * Signature-keyed AES-256-GCM, the NFT payload format of the original:
 * key = keccak256(65 raw signature bytes r ‖ s ‖ v), output `0x` ‖ hex(nonce(12) ‖ ct ‖ tag(16)).
 * Wallets sign deterministically (RFC 6979), so re-signing the same message re-derives the key.
 */
const NONCE = 12;
const TAG = 16;
export const SIGNATURE_LENGTH = 65;

/** Parse a 65-byte signature (hex, optional 0x) into the AES key it derives. */
export function keyFromSignature(signatureHex: string): Uint8Array {
  return keccak_256(hexToBytesStrict(signatureHex, "signature", SIGNATURE_LENGTH));
}

/** Encrypt UTF-8 (or raw) plaintext under the key of `signatureHex`; `nonce` is for known-answer tests only. */
export function encryptWithSignature(
  signatureHex: string,
  plaintext: Uint8Array | string,
  nonce?: Uint8Array,
): `0x${string}` {
  const iv = nonce ?? crypto.getRandomValues(new Uint8Array(NONCE));
  if (iv.length !== NONCE) throw new BlockhostError("E_INVALID_INPUT", `nonce must be ${NONCE} bytes`);
  const data = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
  const sealed = gcm(keyFromSignature(signatureHex), iv).encrypt(data);
  return `0x${bytesToHexPlain(iv)}${bytesToHexPlain(sealed)}`;
}

/** Decrypt `0x…` produced by encryptWithSignature; throws E_CRYPTO on a wrong signature or tampering. */
export function decryptWithSignature(signatureHex: string, ciphertextHex: string): Uint8Array {
  const key = keyFromSignature(signatureHex);
  const data = hexToBytesStrict(ciphertextHex, "ciphertext");
  if (data.length < NONCE + TAG) {
    throw new BlockhostError("E_CRYPTO", `ciphertext too short: ${data.length} bytes, at least ${NONCE + TAG}`);
  }
  try {
    return gcm(key, data.subarray(0, NONCE)).decrypt(data.subarray(NONCE));
  } catch {
    throw new BlockhostError("E_CRYPTO", "decryption failed: wrong signature or tampered ciphertext");
  }
}

/** Decode plaintext bytes as UTF-8, refusing invalid sequences. */
export function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BlockhostError("E_CRYPTO", "decrypted data is not valid UTF-8");
  }
}
