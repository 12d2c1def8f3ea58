/** secp256k1 keys: generate, parse, derive public keys and addresses. */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { BlockhostError } from "../core/errors.ts";
import { bytesToHexPlain, hexToBytesStrict } from "./hex.ts";

// noble builds a table of base-point multiples on the first key derivation, which costs some 30
// derivations: worth it in a long-running process, not in the one-shot CLI and PAM helper this module
// serves (the engine signs through viem's own copy of the curve, which keeps its table).
secp256k1.Point.BASE.precompute(1);

/** A fresh random secp256k1 private key (32 bytes, in [1, n-1]). */
export function generatePrivateKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

/** Parse a 32-byte hex private key (optional 0x; a trailing newline from a key file is fine). */
export function parsePrivateKey(text: string, what = "private key"): Uint8Array {
  const key = hexToBytesStrict(text, what, 32);
  if (!secp256k1.utils.isValidSecretKey(key))
    throw new BlockhostError("E_INVALID_INPUT", `${what} is out of range for secp256k1 (0 or ≥ n)`);
  return key;
}

/**
 * Parse a secp256k1 public key: uncompressed (65 bytes, 04…) or compressed (33 bytes, 02/03…),
 * checked to be on the curve, returned uncompressed.
 */
export function parsePublicKey(text: string, what = "public key"): Uint8Array {
  const bytes = hexToBytesStrict(text, what);
  if (bytes.length !== 65 && bytes.length !== 33) {
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `${what} must be 65 bytes (04…) or 33 bytes (02…/03…), got ${bytes.length}`,
    );
  }
  try {
    return secp256k1.Point.fromBytes(bytes).toBytes(false);
  } catch {
    throw new BlockhostError("E_INVALID_INPUT", `${what} is not a point on secp256k1`);
  }
}

/** The uncompressed (65-byte, 04…) public key of a private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return secp256k1.getPublicKey(privateKey, false);
}

/** EIP-55: a hex letter is upper case where the same nibble of keccak256(the lower-case hex) is 8 or more. */
function checksummed(lowerHex: string): `0x${string}` {
  const hash = bytesToHex(keccak_256(utf8ToBytes(lowerHex)));
  let out = "0x";
  for (let i = 0; i < lowerHex.length; i++)
    out += Number.parseInt(hash[i]!, 16) >= 8 ? lowerHex[i]!.toUpperCase() : lowerHex[i]!;
  return out as `0x${string}`;
}

/**
 * EIP-55 checksummed address of an uncompressed public key: last 20 bytes of keccak256(X ‖ Y).
 * (noble's keccak directly, not viem: this module is on the path of the one-shot CLI and PAM helper.)
 */
export function addressOfPublicKey(publicKey: Uint8Array): `0x${string}` {
  return checksummed(bytesToHex(keccak_256(publicKey.subarray(1)).subarray(12)));
}

/** The address that signed `message` the EIP-191 way (personal_sign) with a 65-byte r ‖ s ‖ v signature. */
export function recoverMessageSigner(message: string, signatureHex: string): `0x${string}` {
  const signature = hexToBytesStrict(signatureHex, "signature", 65);
  const text = utf8ToBytes(message);
  const digest = keccak_256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${text.length}`), text));
  const v = signature[64]! >= 27 ? signature[64]! - 27 : signature[64]!;
  if (v > 1) throw new BlockhostError("E_INVALID_INPUT", "signature has an invalid recovery byte");
  const recovered = concatBytes(Uint8Array.of(v), signature.subarray(0, 64));
  try {
    const publicKey = secp256k1.recoverPublicKey(recovered, digest, { prehash: false });
    return addressOfPublicKey(secp256k1.Point.fromBytes(publicKey).toBytes(false));
  } catch {
    throw new BlockhostError("E_INVALID_INPUT", "signature does not recover to a public key");
  }
}

export function addressOfPrivateKey(privateKey: Uint8Array): `0x${string}` {
  return addressOfPublicKey(publicKeyOf(privateKey));
}

/** Hex forms used in files and output: private key without prefix, public key `04…`. */
export const privateKeyHex = (key: Uint8Array): string => bytesToHexPlain(key);
export const publicKeyHex = (key: Uint8Array): string => bytesToHexPlain(key);
