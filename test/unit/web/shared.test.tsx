/** The shared web layer: headers, limits, sessions with CSRF, embedded assets, the page shell. */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { assetRoutes } from "../../../src/web/assets.ts";
import { Page, safeAccent } from "../../../src/web/layout.tsx";
import { limits, securityHeaders } from "../../../src/web/security.ts";
import { requireCsrf, requireSession, SessionStore, type SessionVariables } from "../../../src/web/session.ts";

function app(opts: { tls: boolean; now?: () => number }) {
  const store = new SessionStore({ cookieName: "bh_test", idleMs: 60_000, tls: opts.tls, now: opts.now });
  const a = new Hono<{ Variables: SessionVariables & { secureHeadersNonce?: string } }>();
  a.use("*", securityHeaders({ tls: opts.tls }), ...limits(1024, 2_000));
  a.post("/login", (c) => c.json({ csrf: store.create(c, { who: "admin" }).csrf }));
  a.use("/private/*", requireSession(store), requireCsrf());
  a.get("/private/who", (c) => c.text(String(c.get("session").data.who)));
  a.post("/private/act", (c) => c.text("done"));
  a.get("/page", (c) =>
    c.html(
      <Page title="<b>Shop</b>" accent="#ff0000" nonce={c.get("secureHeadersNonce")} data={{ name: "</div>\"'" }}>
        <p>{"<img src=x onerror=alert(1)>"}</p>
      </Page>,
    ),
  );
  a.route("/assets", assetRoutes());
  return { a, store };
}

const cookieOf = (r: Response) => (r.headers.get("set-cookie") ?? "").split(";")[0] ?? "";

describe("security headers", () => {
  test("strict CSP with a nonce, no framing, nosniff; HSTS only under TLS", async () => {
    const plain = await app({ tls: false }).a.request("/page");
    const csp = plain.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain("unsafe-inline");
    expect(plain.headers.get("x-content-type-options")).toBe("nosniff");
    expect(plain.headers.get("strict-transport-security")).toBeNull();
    const tls = await app({ tls: true }).a.request("/page");
    expect(tls.headers.get("strict-transport-security")).toContain("max-age=");
  });

  test("bodies over the limit are refused with 413", async () => {
    const r = await app({ tls: false }).a.request("/login", { method: "POST", body: "x".repeat(4096) });
    expect(r.status).toBe(413);
  });
});

describe("page shell", () => {
  test("user-controlled text is escaped; the accent goes into a nonce'd style; data is an attribute", async () => {
    const r = await app({ tls: false }).a.request("/page");
    const html = await r.text();
    const nonce = /'nonce-([^']+)'/.exec(r.headers.get("content-security-policy") ?? "")?.[1];
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("<title>&lt;b&gt;Shop&lt;/b&gt;</title>");
    expect(html).toContain(`<style nonce="${nonce}">:root { --accent: #ff0000; }</style>`);
    expect(html).toMatch(/<div id="page-data" hidden="" data-json="\{&quot;name&quot;:&quot;&lt;\/div&gt;/);
    expect(html).toContain('role="status" aria-live="polite"');
  });

  test("an accent that is not a plain colour is dropped", () => {
    expect(safeAccent("#2f6fed")).toBe("#2f6fed");
    expect(safeAccent("teal")).toBe("teal");
    expect(safeAccent("red; background: url(x)")).toBeUndefined();
    expect(safeAccent("</style><script>")).toBeUndefined();
  });
});

describe("sessions and CSRF", () => {
  test("no session → 401; with the cookie → served; cookie is HttpOnly and SameSite=Strict", async () => {
    const { a } = app({ tls: false });
    expect((await a.request("/private/who")).status).toBe(401);
    const login = await a.request("/login", { method: "POST" });
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).not.toContain("Secure");
    const r = await a.request("/private/who", { headers: { cookie: cookieOf(login) } });
    expect(await r.text()).toBe("admin");
  });

  test("under TLS the cookie is __Host- and Secure", async () => {
    const login = await app({ tls: true }).a.request("/login", { method: "POST" });
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toStartWith("__Host-bh_test=");
    expect(setCookie).toContain("Secure");
  });

  test("a POST without the CSRF token is 403, with a wrong one 403, with the right one (header or form) 200", async () => {
    const { a } = app({ tls: false });
    const login = await a.request("/login", { method: "POST" });
    const { csrf } = (await login.json()) as { csrf: string };
    const cookie = cookieOf(login);
    expect((await a.request("/private/act", { method: "POST", headers: { cookie } })).status).toBe(403);
    const wrong = { cookie, "x-csrf-token": "A".repeat(csrf.length) };
    expect((await a.request("/private/act", { method: "POST", headers: wrong })).status).toBe(403);
    const right = await a.request("/private/act", { method: "POST", headers: { cookie, "x-csrf-token": csrf } });
    expect(right.status).toBe(200);
    const form = await a.request("/private/act", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(form.status).toBe(200);
  });

  test("an idle session expires", async () => {
    let t = 1_000_000;
    const { a } = app({ tls: false, now: () => t });
    const login = await a.request("/login", { method: "POST" });
    const cookie = cookieOf(login);
    t += 59_000;
    expect((await a.request("/private/who", { headers: { cookie } })).status).toBe(200);
    t += 61_000;
    expect((await a.request("/private/who", { headers: { cookie } })).status).toBe(401);
  });
});

describe("assets", () => {
  test("the stylesheet is embedded; unknown or malformed script names are 404", async () => {
    const { a } = app({ tls: false });
    const css = await a.request("/assets/style.css");
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(await css.text()).toContain("--accent");
    expect((await a.request("/assets/nosuch.js")).status).toBe(404);
    expect((await a.request("/assets/..%2fetc.js")).status).toBe(404);
  });
});
