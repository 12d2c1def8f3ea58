/**
 * Sessions of signed-in wallets for one surface (admin, panel): the id in a signed `__Host-` cookie
 * (HttpOnly, Secure, SameSite=Strict), the state in memory (a restart signs everyone out), idle and
 * absolute expiry, a CSRF token each, and a bound on how many live at once.
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Address } from "viem";
import { csrfGuard, randomToken } from "./csrf.ts";

export interface WalletSession {
  readonly id: string;
  readonly wallet: Address;
  /** Sent back on every state-changing request (header `x-csrf-token` or form field `csrf`). */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface WalletSessionsOptions {
  /** Cookie name without prefix; the cookie is `__Host-<name>`. */
  cookieName: string;
  idleMs: number;
  /** A session older than this ends however busy (default 12 h). */
  maxAgeMs?: number;
  /** Live sessions at most (default 10,000); the least recently used goes first. */
  maxSessions?: number;
  /** HMAC key of the cookie (default: random per process). */
  secret?: Uint8Array<ArrayBuffer>;
  now?: () => number;
}

/** Hono variables set by `WalletSessions.require()`. */
export type WalletEnv = { Variables: { walletSession: WalletSession; secureHeadersNonce?: string } };

export class WalletSessions {
  private readonly sessions = new Map<string, WalletSession>();
  private readonly secret: Uint8Array<ArrayBuffer>;
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  /** The cookie as the browser sends it. */
  readonly cookie: string;

  constructor(private readonly opts: WalletSessionsOptions) {
    this.secret = opts.secret ?? crypto.getRandomValues(new Uint8Array(32));
    this.now = opts.now ?? Date.now;
    this.maxAgeMs = opts.maxAgeMs ?? 12 * 3600_000;
    this.cookie = `__Host-${opts.cookieName}`;
  }

  /** Start a session for `wallet` (after a verified sign-in); this client's previous session ends. */
  async start(c: Context, wallet: Address): Promise<WalletSession> {
    const previous = await this.idOf(c);
    if (previous) this.sessions.delete(previous);
    this.sweep();
    if (this.sessions.size >= (this.opts.maxSessions ?? 10_000)) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0];
      if (oldest) this.sessions.delete(oldest.id);
    }
    const t = this.now();
    const session: WalletSession = { id: randomToken(32), wallet, csrf: randomToken(32), createdAt: t, lastSeen: t };
    this.sessions.set(session.id, session);
    await setSignedCookie(c, this.opts.cookieName, session.id, this.secret, {
      prefix: "host",
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
      path: "/",
      maxAge: Math.floor(this.maxAgeMs / 1000),
    });
    return session;
  }

  /** The live session named by the request's cookie (touching it), or undefined. */
  async get(c: Context): Promise<WalletSession | undefined> {
    const id = await this.idOf(c);
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    const t = this.now();
    if (t - session.lastSeen > this.opts.idleMs || t - session.createdAt > this.maxAgeMs) {
      this.sessions.delete(session.id);
      return undefined;
    }
    session.lastSeen = t;
    return session;
  }

  /** End the request's session and clear its cookie. */
  async end(c: Context): Promise<void> {
    const id = await this.idOf(c);
    if (id) this.sessions.delete(id);
    deleteCookie(c, this.opts.cookieName, { path: "/", secure: true, prefix: "host" });
  }

  /** End every session of `wallet` (e.g. when it no longer holds what the surface requires). */
  endWallet(wallet: string): void {
    for (const [id, s] of this.sessions) if (s.wallet.toLowerCase() === wallet.toLowerCase()) this.sessions.delete(id);
  }

  /** Live sessions (for tests). */
  get size(): number {
    this.sweep();
    return this.sessions.size;
  }

  /** Refuse a request without a live session (default 401); on success `c.get("walletSession")` is set. */
  require(
    onMissing: (c: Context) => Response | Promise<Response> = (c) => c.text("sign in first", 401),
  ): MiddlewareHandler<WalletEnv> {
    return async (c, next) => {
      const session = await this.get(c);
      if (!session) return onMissing(c);
      c.set("walletSession", session);
      await next();
    };
  }

  /** The session's CSRF token on every state-changing request (403 otherwise). Use after `require()`. */
  csrf(): MiddlewareHandler<WalletEnv> {
    return csrfGuard((c) => (c as Context<WalletEnv>).get("walletSession").csrf);
  }

  private async idOf(c: Context): Promise<string | undefined> {
    const id = await getSignedCookie(c, this.secret, this.opts.cookieName, "host");
    return id || undefined;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions)
      if (t - s.lastSeen > this.opts.idleMs || t - s.createdAt > this.maxAgeMs) this.sessions.delete(id);
  }
}
