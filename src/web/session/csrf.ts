/** CSRF tokens: every state-changing request carries its session's token (header `x-csrf-token` or form field `csrf`). */
import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const randomToken = (bytes: number) =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The CSRF token the client sent: header `x-csrf-token`, else the form field `csrf`. */
async function sentToken(c: Context): Promise<string | undefined> {
  const header = c.req.header("x-csrf-token");
  if (header) return header;
  const type = c.req.header("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
    const field = (await c.req.parseBody()).csrf;
    return typeof field === "string" ? field : undefined;
  }
  return undefined;
}

/** 403 for an unsafe method whose token is missing or is not `expected(c)`. */
export function csrfGuard(expected: (c: Context) => string): MiddlewareHandler {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      const token = await sentToken(c);
      if (!token || !sameToken(token, expected(c))) return c.text("missing or wrong CSRF token", 403);
    }
    await next();
  };
}
