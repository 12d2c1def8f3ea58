/** The wizard's one-time password: 6 characters from an unambiguous alphabet, 4 h, stored 0600 (wrong tries are limited per client: backoff.ts). */
import { timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

export const OTP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const OTP_LENGTH = 6;
export const OTP_TTL_MS = 4 * 3600_000;

interface OtpState {
  code: string;
  expires_at: number;
}

export type OtpResult = "ok" | "wrong" | "expired";

/** A fresh code: rejection sampling keeps every character equally likely. */
function randomCode(): string {
  let out = "";
  while (out.length < OTP_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(16))) {
      if (b < 248 && out.length < OTP_LENGTH) out += OTP_ALPHABET[b % OTP_ALPHABET.length];
    }
  }
  return out;
}

/** The OTP kept in one 0600 file, so a restarted wizard keeps the code the console showed. */
export class OtpStore {
  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Make a new code (replacing any earlier one) and return it. */
  generate(): string {
    const state: OtpState = { code: randomCode(), expires_at: this.now() + OTP_TTL_MS };
    this.save(state);
    return state.code;
  }

  /** The current code if it can still be used, else a new one. */
  current(): string {
    const s = this.load();
    return s && s.expires_at > this.now() ? s.code : this.generate();
  }

  /** Check a code (valid for its whole lifetime, so a lost session can log in again). */
  verify(input: string): OtpResult {
    const s = this.load();
    if (!s || s.expires_at <= this.now()) return "expired";
    const given = Buffer.from(input.trim().toUpperCase().padEnd(OTP_LENGTH).slice(0, 64));
    const want = Buffer.from(s.code);
    return given.length === want.length && timingSafeEqual(given, want) ? "ok" : "wrong";
  }

  private load(): OtpState | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, "utf8")) as OtpState;
    } catch {
      return undefined;
    }
  }

  private save(state: OtpState): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
