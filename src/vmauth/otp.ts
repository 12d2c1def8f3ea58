/** One-time codes, their signed message and their tags. */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/** The EIP-191 message the wallet signs (the original libpam-web3's wording, kept for compatibility). */
export function otpMessage(machineId: string, otp: string): string {
  return `Authenticate to ${machineId} with code: ${otp}`;
}

/** A uniformly random numeric code of `length` digits (leading zeros allowed). */
export function generateOtp(length: number): string {
  let otp = "";
  for (let i = 0; i < length; i++) otp += String(randomInt(0, 10));
  return otp;
}

/** A callback session id: 16 random bytes as 32 lowercase hex characters. */
export function newSessionId(): string {
  return randomBytes(16).toString("hex");
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
  return createHmac("sha256", secret).update(data).digest("hex");
}

/** Constant-time comparison of a stored tag with the expected one. */
export function tagMatches(secret: Uint8Array, f: TaggedFields, tag: string): boolean {
  const expected = Buffer.from(otpTag(secret, f), "hex");
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(tag) ? tag : "", "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Name of the used-OTP record for a message: a replayed signature maps to the same name. */
export function usedOtpName(machineId: string, otp: string): string {
  return createHash("sha256").update(otpMessage(machineId, otp)).digest("hex");
}
