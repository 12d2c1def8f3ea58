/** ECIES in the broker's wire format (eciesrs 0.2 / eciespy), which differs from the host's own (ecies.ts). */
import { gcm } from "@noble/ciphers/aes.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { BlockhostError } from "../core/errors.ts";
import { generatePrivateKey, publicKeyOf } from "./keys.ts";

/**
 * The tunnel broker speaks the Rust `ecies` crate's format (Python eciespy reads the same):
 *   ephemeral public key (65, uncompressed) ‖ nonce (16) ‖ tag (16) ‖ AES-256-GCM ciphertext
 * with key = HKDF-SHA256(ikm = ephemeral public key (65) ‖ ECDH point (65, uncompressed), no salt,
 * empty info, 32 bytes).
 */
const PUB = 65;
const NONCE = 16;
const TAG = 16;

/** The AES key both sides derive from the sender's ephemeral public key and their shared ECDH point. */
export function brokerEciesKey(ephemeralPublic: Uint8Array, point: Uint8Array): Uint8Array {
  const ikm = new Uint8Array(PUB * 2);
  ikm.set(ephemeralPublic, 0);
  ikm.set(point, PUB);
  return hkdf(sha256, ikm, undefined, undefined, 32);
}

/** Encrypt to an uncompressed secp256k1 public key in the broker's format. */
export function brokerEciesEncrypt(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  opts: { ephemeralPrivateKey?: Uint8Array; nonce?: Uint8Array } = {},
): Uint8Array {
  const ephemeral = opts.ephemeralPrivateKey ?? generatePrivateKey();
  const nonce = opts.nonce ?? crypto.getRandomValues(new Uint8Array(NONCE));
  const ephemeralPublic = publicKeyOf(ephemeral);
  const key = brokerEciesKey(ephemeralPublic, secp256k1.getSharedSecret(ephemeral, publicKey, false));
  const sealed = gcm(key, nonce).encrypt(plaintext);
  const out = new Uint8Array(PUB + NONCE + sealed.length);
  out.set(ephemeralPublic, 0);
  out.set(nonce, PUB);
  out.set(sealed.subarray(sealed.length - TAG), PUB + NONCE);
  out.set(sealed.subarray(0, sealed.length - TAG), PUB + NONCE + TAG);
  return out;
}

/** Decrypt a broker-format ECIES message with our private key; one-line error when it does not open. */
export function brokerEciesDecrypt(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (message.length < PUB + NONCE + TAG) throw new BlockhostError("E_INVALID_INPUT", "broker ECIES message too short");
  try {
    const ephemeralPublic = message.subarray(0, PUB);
    const key = brokerEciesKey(ephemeralPublic, secp256k1.getSharedSecret(privateKey, ephemeralPublic, false));
    const nonce = message.subarray(PUB, PUB + NONCE);
    const tag = message.subarray(PUB + NONCE, PUB + NONCE + TAG);
    const body = message.subarray(PUB + NONCE + TAG);
    const sealed = new Uint8Array(body.length + TAG);
    sealed.set(body, 0);
    sealed.set(tag, body.length);
    return gcm(key, nonce).decrypt(sealed);
  } catch {
    throw new BlockhostError("E_INVALID_INPUT", "broker ECIES message does not open with this key");
  }
}
