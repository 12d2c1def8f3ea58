/** secp256k1 keys: generate, parse, derive public keys and addresses. */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { getAddress, keccak256 } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { bytesToHexPlain, hexToBytesStrict } from "./hex.ts";

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

/** EIP-55 checksummed address of an uncompressed public key: last 20 bytes of keccak256(X ‖ Y). */
export function addressOfPublicKey(publicKey: Uint8Array): `0x${string}` {
  const hash = keccak256(publicKey.subarray(1));
  return getAddress(`0x${hash.slice(-40)}`);
}

export function addressOfPrivateKey(privateKey: Uint8Array): `0x${string}` {
  return addressOfPublicKey(publicKeyOf(privateKey));
}

/** Hex forms used in files and output: private key without prefix, public key `04…`. */
export const privateKeyHex = (key: Uint8Array): string => bytesToHexPlain(key);
export const publicKeyHex = (key: Uint8Array): string => bytesToHexPlain(key);
