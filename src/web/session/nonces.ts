/**
 * Server nonces for one sign-in purpose (admin, reveal, panel): single use, short-lived, bounded.
 * A full store refuses new nonces rather than evicting pending ones, and each client may hold only a
 * few (its own oldest goes first), so anonymous traffic cannot push out someone else's sign-in.
 */

export interface PendingNonce {
  readonly nonce: string;
  /** What the nonce is for within the purpose (a token id; "" when nothing). */
  readonly subject: string;
  /** The authority (host[:port]) the message must name. */
  readonly domain: string;
  readonly client: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface NonceStoreOptions {
  ttlMs: number;
  /** Pending nonces at most in this store. */
  maxPending: number;
  /** Pending nonces at most per client key. */
  perClient: number;
  now?: () => number;
}

/** 128 random bits as 32 hex digits (EIP-4361: at least 8 alphanumerics). */
export const newNonce = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex");

export class NonceStore {
  private readonly pending = new Map<string, PendingNonce>();
  private readonly byClient = new Map<string, string[]>();
  private readonly now: () => number;

  constructor(private readonly opts: NonceStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A fresh nonce for `client`, or null when the store is full of other clients' live nonces. */
  issue(client: string, subject: string, domain: string): PendingNonce | null {
    const t = this.now();
    const mine = (this.byClient.get(client) ?? []).filter((n) => this.live(n, t));
    while (mine.length >= this.opts.perClient) this.pending.delete(mine.shift()!);
    if (this.pending.size >= this.opts.maxPending || this.byClient.size > this.opts.maxPending) this.prune(t);
    if (this.pending.size >= this.opts.maxPending) return null;
    const p: PendingNonce = { nonce: newNonce(), subject, domain, client, issuedAt: t, expiresAt: t + this.opts.ttlMs };
    this.pending.set(p.nonce, p);
    mine.push(p.nonce);
    this.byClient.set(client, mine);
    return p;
  }

  /** Use up `nonce`: its record once, while live; a second take, or a take after expiry, gets null. */
  take(nonce: string): PendingNonce | null {
    const p = this.pending.get(nonce);
    if (!p) return null;
    this.pending.delete(nonce);
    return this.now() < p.expiresAt ? p : null;
  }

  /** Live pending nonces (for tests and status). */
  get size(): number {
    this.prune(this.now());
    return this.pending.size;
  }

  private live(nonce: string, t: number): boolean {
    const p = this.pending.get(nonce);
    if (p && p.expiresAt <= t) this.pending.delete(nonce);
    return p !== undefined && p.expiresAt > t;
  }

  private prune(t: number): void {
    for (const [k, p] of this.pending) if (p.expiresAt <= t) this.pending.delete(k);
    for (const [client, list] of this.byClient) {
      const kept = list.filter((n) => this.pending.has(n));
      if (kept.length) this.byClient.set(client, kept);
      else this.byClient.delete(client);
    }
  }
}
