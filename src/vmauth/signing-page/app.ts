/** The in-VM signing page (Hono): the code to sign and the signature callback. */
import { Hono, type Context } from "hono";
import { SIGNING_PAGE_HTML, SIGNING_PAGE_SCRIPT } from "../files/index.ts";
import { expiryText, vmLoginMessage } from "../otp.ts";
import { readCallbackSignature, readPending, SESSION_ID_RE, writeCallbackSignature } from "../sessions.ts";

/** The largest callback body: a 132-character signature plus generous whitespace. */
export const MAX_CALLBACK_BYTES = 256;
const CALLBACK_SIGNATURE_RE = /^(0x)?([0-9a-fA-F]{130})$/;

/** How long a client may take to send the callback body (a trickling client is cut off). */
export const BODY_TIMEOUT_MS = 5_000;

/** Read at most `max` bytes of the body within BODY_TIMEOUT_MS: "large" or "slow" otherwise. */
async function boundedBody(req: Request, max: number): Promise<string | "large" | "slow"> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return "large";
  if (!req.body) return "";
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"slow">((resolve) => {
    timer = setTimeout(() => resolve("slow"), BODY_TIMEOUT_MS);
  });
  const read = async (): Promise<string | "large"> => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return Buffer.concat(chunks).toString("utf8");
      size += value.length;
      if (size > max) return "large";
      chunks.push(value);
    }
  };
  try {
    return await Promise.race([read(), timeout]);
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}

/**
 * Bun hands a request without a Host header (HTTP/1.0) to `fetch` with a bare path as its URL,
 * and Hono then reads the path from a fixed offset, routing `/auth/pending/ID` to `/ID`. Give such
 * a request an absolute URL first; a target that is not a path is refused.
 */
export function absoluteUrlFetch(app: Hono): (req: Request) => Response | Promise<Response> {
  return (req) => {
    if (/^https?:\/\//i.test(req.url)) return app.fetch(req);
    if (!req.url.startsWith("/")) return new Response("bad request target\n", { status: 400 });
    return app.fetch(new Request(`http://localhost${req.url}`, req));
  };
}

/**
 * The signing page service: the page, its script, the public half of a pending session, and
 * the callback that stores a signature for PAM to check. It verifies nothing itself: PAM does.
 */
export function signingPageApp(): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
  });
  const page = (c: Context) => c.html(SIGNING_PAGE_HTML);
  app.get("/", page);
  app.get("/index.html", page);
  app.get("/engine.js", (c) => c.body(SIGNING_PAGE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" }));

  app.get("/auth/pending/:id", (c) => {
    const id = c.req.param("id");
    if (!SESSION_ID_RE.test(id)) return c.json({ error: "bad session id" }, 400);
    const s = readPending(id);
    if (!s) return c.json({ error: "no such session" }, 404);
    return c.json({
      otp: s.otp,
      machine_id: s.machine_id,
      session_id: s.session_id,
      expires: expiryText(s.expires_at),
      message: vmLoginMessage(s.machine_id, s.otp, s.expires_at),
    });
  });

  app.post("/auth/callback/:id", async (c) => {
    const id = c.req.param("id");
    if (!SESSION_ID_RE.test(id)) return c.json({ error: "bad session id" }, 400);
    const body = await boundedBody(c.req.raw, MAX_CALLBACK_BYTES);
    if (body === "large") return c.json({ error: `body larger than ${MAX_CALLBACK_BYTES} bytes` }, 413);
    if (body === "slow") return c.json({ error: "request body too slow" }, 408);
    if (!readPending(id)) return c.json({ error: "no such session" }, 404);
    if (readCallbackSignature(id) !== null) return c.json({ error: "already signed" }, 409);
    const m = CALLBACK_SIGNATURE_RE.exec(body.trim());
    if (!m) return c.json({ error: "body must be a 65-byte hex signature" }, 400);
    if (!writeCallbackSignature(id, `0x${m[2]!.toLowerCase()}`)) return c.json({ error: "already signed" }, 409);
    return c.json({ ok: true });
  });

  app.notFound((c) => c.json({ error: "not found" }, 404));
  app.onError((_e, c) => c.json({ error: "internal error" }, 500));
  return app;
}
