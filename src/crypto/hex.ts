/** Hex decoding with one-line errors. */
import { BlockhostError } from "../core/errors.ts";

/**
 * Decode hex (optional `0x`, surrounding whitespace ignored) into bytes, or throw a one-line
 * E_INVALID_INPUT naming `what`. `length` pins the byte length when given.
 */
export function hexToBytesStrict(text: string, what: string, length?: number): Uint8Array {
  const hex = text.trim().replace(/^0x/i, "");
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `${what} is not hex (expected an even number of 0-9a-f digits, optional 0x)`,
    );
  }
  if (length !== undefined && hex.length !== length * 2) {
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `${what} must be ${length} bytes (${length * 2} hex digits), got ${hex.length / 2}`,
    );
  }
  // No Buffer: this module also runs in the browser (signup page).
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex without prefix. */
export function bytesToHexPlain(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
