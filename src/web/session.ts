/** Server-side sessions of the wizard (OTP login): random ids in an HttpOnly cookie, idle expiry, CSRF tokens. Wallet logins use session/. */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrfGuard, randomToken } from "./session/csrf.ts";

export interface Session {
  readonly id: string;
  /** Sent back by the page on every state-changing request (header `x-csrf-token` or form field `csrf`). */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
  /** What the surface keeps per login (e.g. the verified wallet). */
  data: Record<string, unknown>;
}

export interface SessionOptions {
  /** Cookie name; under TLS it gets the `__Host-` prefix (Secure, path /, no Domain). */
  cookieName: string;
  /** A session unused for this long is gone. */
  idleMs: number;
  /** A session older than this is gone however busy (default 12 h). */
  maxAgeMs?: number;
  tls: boolean;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

/** Hono variables a surface gets from `requireSession`. */
export interface SessionVariables {
  session: Session;
}

/** Sessions in memory: a restart logs everyone out, which is the safe direction for one-host admin surfaces. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  readonly cookie: string;

  constructor(private readonly opts: SessionOptions) {
    this.now = opts.now ?? Date.now;
    this.cookie = opts.tls ? `__Host-${opts.cookieName}` : opts.cookieName;
  }

  /** Start a session (after a successful login) and set its cookie; any previous session of this client ends. */
  create(c: Context, data: Record<string, unknown> = {}): Session {
    const previous = getCookie(c, this.cookie);
    if (previous) this.sessions.delete(previous);
    this.sweep();
    const t = this.now();
    const session: Session = { id: randomToken(32), csrf: randomToken(32), createdAt: t, lastSeen: t, data };
    this.sessions.set(session.id, session);
    setCookie(c, this.cookie, session.id, {
      httpOnly: true,
      sameSite: "Strict",
      secure: this.opts.tls,
      path: "/",
      maxAge: Math.floor((this.opts.maxAgeMs ?? 12 * 3600_000) / 1000),
    });
    return session;
  }

  /** The live session named by the request's cookie (touching it), or undefined. */
  get(c: Context): Session | undefined {
    const id = getCookie(c, this.cookie);
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const t = this.now();
    if (t - session.lastSeen > this.opts.idleMs || t - session.createdAt > (this.opts.maxAgeMs ?? 12 * 3600_000)) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = t;
    return session;
  }

  /** End the request's session and clear its cookie. */
  destroy(c: Context): void {
    const id = getCookie(c, this.cookie);
    if (id) this.sessions.delete(id);
    deleteCookie(c, this.cookie, { path: "/", secure: this.opts.tls });
  }

  /** How many sessions are live (for tests and status). */
  get size(): number {
    this.sweep();
    return this.sessions.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (t - s.lastSeen > this.opts.idleMs) this.sessions.delete(id);
  }
}

/** Refuse a request without a live session (default: 401); on success `c.get("session")` is set. */
export function requireSession(
  store: SessionStore,
  onMissing: (c: Context) => Response | Promise<Response> = (c) => c.text("login required", 401),
): MiddlewareHandler<{ Variables: SessionVariables }> {
  return async (c, next) => {
    const session = store.get(c);
    if (!session) return onMissing(c);
    c.set("session", session);
    await next();
  };
}

/** Every state-changing request must carry the session's CSRF token (403 otherwise). Use after requireSession. */
export function requireCsrf(): MiddlewareHandler<{ Variables: SessionVariables }> {
  return csrfGuard((c) => (c as Context<{ Variables: SessionVariables }>).get("session").csrf);
}
