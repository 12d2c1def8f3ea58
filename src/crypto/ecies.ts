/** ECIES over secp256k1, byte-compatible with the original. */
import { gcm } from "@noble/ciphers/aes.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { BlockhostError } from "../core/errors.ts";
import { generatePrivateKey, publicKeyOf } from "./keys.ts";

/**
 * ECIES over secp256k1, byte-compatible with the original's browser/bhcrypt format:
 *   ephemeral public key (65, uncompressed) ‖ iv (12) ‖ AES-256-GCM ciphertext ‖ tag (16)
 * with key = HKDF-SHA256(ikm = X coordinate of the ECDH point, no salt, empty info, 32 bytes).
 */
const PUB = 65;
const IV = 12;
const TAG = 16;
export const ECIES_MIN_LENGTH = PUB + IV + TAG;

function aesKey(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const shared = secp256k1.getSharedSecret(privateKey, publicKey, false);
  // No salt means HashLen zero bytes (RFC 5869), which is what the original passes.
  return hkdf(sha256, shared.subarray(1, 33), undefined, undefined, 32);
}

/** Deterministic inputs, for known-answer tests only. */
export interface EciesEncryptOptions {
  ephemeralPrivateKey?: Uint8Array;
  iv?: Uint8Array;
}

/** Encrypt `plaintext` to an uncompressed (65-byte) secp256k1 public key. */
export function eciesEncrypt(publicKey: Uint8Array, plaintext: Uint8Array, opts: EciesEncryptOptions = {}): Uint8Array {
  const ephemeral = opts.ephemeralPrivateKey ?? generatePrivateKey();
  const iv = opts.iv ?? crypto.getRandomValues(new Uint8Array(IV));
  if (iv.length !== IV) throw new BlockhostError("E_INVALID_INPUT", `ECIES iv must be ${IV} bytes`);
  const sealed = gcm(aesKey(ephemeral, publicKey), iv).encrypt(plaintext);
  const out = new Uint8Array(PUB + IV + sealed.length);
  out.set(publicKeyOf(ephemeral), 0);
  out.set(iv, PUB);
  out.set(sealed, PUB + IV);
  return out;
}

/** Decrypt with the recipient's private key; throws E_CRYPTO when the data is malformed or was tampered with. */
export function eciesDecrypt(privateKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length < ECIES_MIN_LENGTH) {
    throw new BlockhostError(
      "E_CRYPTO",
      `ECIES ciphertext too short: ${data.length} bytes, at least ${ECIES_MIN_LENGTH}`,
    );
  }
  if (data[0] !== 0x04)
    throw new BlockhostError(
      "E_CRYPTO",
      "ECIES ciphertext does not start with an uncompressed ephemeral public key (04…)",
    );
  let key: Uint8Array;
  try {
    key = aesKey(privateKey, data.subarray(0, PUB));
  } catch {
    throw new BlockhostError("E_CRYPTO", "ECIES ephemeral public key is not a point on secp256k1");
  }
  try {
    return gcm(key, data.subarray(PUB, PUB + IV)).decrypt(data.subarray(PUB + IV));
  } catch {
    throw new BlockhostError("E_CRYPTO", "ECIES decryption failed: wrong private key or tampered ciphertext");
  }
}
