/** Security middleware shared by every web surface: strict headers with a CSP nonce, request size and time limits. */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { NONCE, secureHeaders } from "hono/secure-headers";
import { timeout } from "hono/timeout";

export interface SecurityOptions {
  /** Served over TLS: adds HSTS and marks cookies Secure. */
  tls: boolean;
  /** Extra origins the page's scripts may fetch from (e.g. the chain's RPC URL for reads). */
  connectSrc?: string[];
}

/**
 * Strict CSP (scripts and styles only from this origin or with the per-request nonce, no inline script,
 * no framing, no plugins), nosniff, no referrer, HSTS under TLS. The nonce is `c.get("secureHeadersNonce")`.
 */
export function securityHeaders(opts: SecurityOptions): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      baseUri: ["'none'"],
      scriptSrc: ["'self'", NONCE],
      styleSrc: ["'self'", NONCE],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'", ...(opts.connectSrc ?? [])],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
    },
    strictTransportSecurity: opts.tls ? "max-age=63072000; includeSubDomains" : false,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginEmbedderPolicy: false,
  });
}

/** Body at most `maxBytes` (413) and a handler deadline (503): one slow or huge request cannot hold the server. */
export function limits(maxBytes = 64 * 1024, ms = 15_000): MiddlewareHandler[] {
  return [
    bodyLimit({ maxSize: maxBytes, onError: (c) => c.text("request body too large", 413) }),
    timeout(ms, () => new HTTPException(503, { message: "request took too long" })),
  ];
}
