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

/** In-VM codes are never shorter than this (an older config's 6 digits are raised to it). */
export const MIN_VM_OTP_LENGTH = 10;

/** An expiry as the message shows it: UTC, seconds, e.g. 2026-12-07T23:59:00Z. */
export const expiryText = (expiresAt: number) => new Date(expiresAt * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The in-VM login message: the original's first line (so wallets and tools that show it read the
 * same), then the moment after which no signature of it is accepted. The identity is the VM's
 * random login identity, so a signature is good for one VM, one code and until that moment only.
 */
export function vmLoginMessage(identity: string, otp: string, expiresAt: number): string {
  return `${otpMessage(identity, otp)}\nExpires: ${expiryText(expiresAt)}`;
}

/**
 * A VM's login identity, derived from its per-VM secret (random, generated at create, sent in the
 * first-boot seed): unlike the VM name it is different on every host and for every VM.
 */
export function vmLoginIdentity(secretKeyHex: string): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
  const mac = new Bun.CryptoHasher("sha256", Buffer.from(secretKeyHex.replace(/^0x/, ""), "hex"))
    .update("blockhost-vm-login-identity-v1")
    .digest();
  let id = "";
  for (let i = 0; i < 16; i++) id += alphabet[mac[i]! & 31];
  return `vm-${id}`;
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

/** Name of the used-code record for a signed message: a replayed signature maps to the same name. */
export function usedOtpName(message: string): string {
  return new Bun.CryptoHasher("sha256").update(message).digest("hex");
}
