/** Single-use, short-lived codes a wallet signs to prove who it is (admin login, credential reveal). */
import { randomInt } from "node:crypto";

/** No 0/O, 1/I/L: a code is read and sometimes typed by a person. */
const ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LENGTH = 8;
const MAX_OUTSTANDING = 10_000;

interface Pending {
  purpose: string;
  subject: string;
  expiresAt: number;
}

export class OneTimeCodes {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly ttlMs = 300_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A fresh code for `purpose` about `subject` (a token id, "admin"), valid for the TTL. */
  issue(purpose: string, subject: string): { code: string; expiresAt: number } {
    const t = this.now();
    if (this.pending.size >= MAX_OUTSTANDING) this.prune(t);
    if (this.pending.size >= MAX_OUTSTANDING) this.pending.delete(this.pending.keys().next().value!);
    let code = "";
    for (let i = 0; i < CODE_LENGTH; i++) code += ALPHABET[randomInt(0, ALPHABET.length)];
    const expiresAt = t + this.ttlMs;
    this.pending.set(code, { purpose, subject, expiresAt });
    return { code, expiresAt };
  }

  /** Use up `code`: true once, when it was issued for this purpose and subject and has not expired. */
  take(code: string, purpose: string, subject: string): boolean {
    const p = this.pending.get(code);
    if (!p) return false;
    this.pending.delete(code);
    return p.purpose === purpose && p.subject === subject && this.now() < p.expiresAt;
  }

  private prune(t: number): void {
    for (const [k, p] of this.pending) if (p.expiresAt <= t) this.pending.delete(k);
  }
}
