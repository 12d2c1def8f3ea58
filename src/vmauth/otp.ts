/**
 * One-time codes, their signed message and their tags. Hashes come from Bun's native CryptoHasher and
 * randomness from Web Crypto, not node:crypto, whose loading alone would cost every SSH login a sizeable
 * part of its start.
 */
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** A uniform digit 0–9: bytes of 250 and above are drawn again so that no digit is likelier. */
function randomDigit(): number {
  for (;;) {
    const byte = randomBytes(1)[0]!;
    if (byte < 250) return byte % 10;
  }
}

/** The EIP-191 message the wallet signs (the original libpam-web3's wording, kept for compatibility). */
export function otpMessage(machineId: string, otp: string): string {
  return `Authenticate to ${machineId} with code: ${otp}`;
}

/** A uniformly random numeric code of `length` digits (leading zeros allowed). */
export function generateOtp(length: number): string {
  let otp = "";
  for (let i = 0; i < length; i++) otp += String(randomDigit());
  return otp;
}

/** A callback session id: 16 random bytes as 32 lowercase hex characters. */
export function newSessionId(): string {
  return bytesToHex(randomBytes(16));
}

/** What the integrity tag binds together: a record whose fields were changed no longer verifies. */
export interface TaggedFields {
  sessionId: string;
  user: string;
  otp: string;
  createdAt: number;
  machineId: string;
  attempt: string;
}

/**
 * HMAC-SHA256 over the record's fields under the machine secret (a real keyed MAC, not the
 * original's secret-prefixed hash). Fields are NUL-separated and none can contain NUL.
 */
export function otpTag(secret: Uint8Array, f: TaggedFields): string {
  const data = ["blockhost-pam-otp-v1", f.sessionId, f.user, f.otp, String(f.createdAt), f.machineId, f.attempt].join(
    "\0",
  );
  return new Bun.CryptoHasher("sha256", secret).update(data).digest("hex");
}

/** Constant-time comparison of a stored tag with the expected one. */
export function tagMatches(secret: Uint8Array, f: TaggedFields, tag: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(tag)) return false;
  const [expected, given] = [hexToBytes(otpTag(secret, f)), hexToBytes(tag)];
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected[i]! ^ given[i]!;
  return difference === 0;
}

/** Name of the used-OTP record for a message: a replayed signature maps to the same name. */
export function usedOtpName(machineId: string, otp: string): string {
  return new Bun.CryptoHasher("sha256").update(otpMessage(machineId, otp)).digest("hex");
}
