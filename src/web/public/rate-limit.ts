/** A fixed-window request limiter per client address (in memory: one serve process per host). */
import type { MiddlewareHandler } from "hono";
import { clientKey } from "../session/client.ts";

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one hit for `key`; false when the key is over its limit in the current window. */
  hit(key: string): boolean {
    const t = this.now();
    if (this.windows.size > 10_000) this.prune(t);
    const w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      this.windows.set(key, { start: t, count: 1 });
      return true;
    }
    w.count += 1;
    return w.count <= this.limit;
  }

  /** Seconds until `key`'s window ends. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    return w ? Math.max(1, Math.ceil((w.start + this.windowMs - this.now()) / 1000)) : 1;
  }

  private prune(t: number): void {
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}

/** Middleware: 429 with Retry-After once a client exceeds the limiter's budget. */
export function rateLimit(limiter: RateLimiter, scope: string): MiddlewareHandler {
  return async (c, next) => {
    // Per IPv4 address or IPv6 /64: one customer line cannot multiply its budget by changing addresses.
    const key = `${scope}:${clientKey(c)}`;
    if (!limiter.hit(key)) {
      c.header("Retry-After", String(limiter.retryAfter(key)));
      return c.json({ error: "too many requests; try again shortly" }, 429);
    }
    await next();
  };
}
