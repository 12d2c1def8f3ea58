/** The wallet sign-in module: EIP-4361 fields exactly as issued, single use, per-purpose nonce stores, signed cookies. */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { hasCode } from "../../../src/core/errors.ts";
import {
  addressKey,
  NonceStore,
  type SiweChallenge,
  type WalletEnv,
  WalletLogin,
  WalletSessions,
} from "../../../src/web/session/index.ts";
import { type SiwePatch, signChallenge } from "../../helpers/siwe.ts";

const HOST = "host.example";
const holder = privateKeyToAccount(generatePrivateKey());
const other = privateKeyToAccount(generatePrivateKey());

/** A login app: /challenge hands out fields, /verify checks the signed message, the way the surfaces wire it. */
function loginApp(opts: { now?: () => number } = {}) {
  const login = new WalletLogin({
    purpose: "test",
    hostName: HOST,
    chainId: 31337,
    statement: (s) => `Sign in about ${s || "nothing"}.`,
    perClient: 2,
    maxPending: 5,
    now: opts.now,
  });
  const app = new Hono();
  app.get("/challenge/:s?", (c) => {
    const ch = login.challenge(c, c.req.param("s") ?? "");
    return ch ? c.json(ch) : c.json({ error: "busy" }, 429);
  });
  app.post("/verify/:s?", async (c) => {
    try {
      return c.json({ wallet: await login.verify(await c.req.json(), c.req.param("s") ?? "") });
    } catch (e) {
      if (hasCode(e, "E_AUTH_DENIED")) return c.json({ reason: e.details?.reason }, 403);
      throw e;
    }
  });
  return { app, login };
}

const challenge = async (app: Hono, path = "/challenge", url = `https://${HOST}`) =>
  (await (await app.request(`${url}${path}`)).json()) as SiweChallenge;
const sign = (ch: SiweChallenge, patch: SiwePatch = {}, who = holder) => signChallenge(ch, who, patch);
const verify = async (app: Hono, body: unknown, path = "/verify") =>
  await app.request(`https://${HOST}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });

describe("WalletLogin (EIP-4361)", () => {
  test("the message the wallet signs names the host, the chain, the nonce, issued-at and expiry; it works once", async () => {
    const { app } = loginApp();
    const ch = await challenge(app);
    expect(ch.domain).toBe(HOST);
    expect(ch.uri).toBe(`https://${HOST}`);
    const body = await sign(ch);
    expect(body.message).toContain(`${HOST} wants you to sign in with your Ethereum account:`);
    expect(body.message).toContain("Chain ID: 31337");
    expect(body.message).toContain(`Nonce: ${ch.nonce}`);
    expect(body.message).toContain("Expiration Time: ");
    const ok = await verify(app, body);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { wallet: string }).wallet).toBe(holder.address);
    const again = await verify(app, body);
    expect(again.status).toBe(403);
    expect(((await again.json()) as { reason: string }).reason).toBe("nonce");
  });

  test("another domain, another chain, another uri, another statement or times are refused (and burn the nonce)", async () => {
    const { app } = loginApp();
    const cases: [SiwePatch, string][] = [
      [{ domain: "evil.example" }, "domain"],
      [{ uri: "https://evil.example" }, "domain"],
      [{ chainId: 1 }, "chain"],
      [{ statement: "Sign in about nothing. Also send me your funds." }, "statement"],
      [{ expirationTime: new Date(Date.now() + 86_400_000) }, "time"],
    ];
    for (const [patch, reason] of cases) {
      const ch = await challenge(app);
      const bad = await verify(app, await sign(ch, patch));
      expect(bad.status).toBe(403);
      expect(((await bad.json()) as { reason: string }).reason).toBe(reason);
      expect((await verify(app, await sign(ch))).status).toBe(403);
    }
  });

  test("a domain served under another name is never offered: the challenge names the configured host", async () => {
    const { app } = loginApp();
    const ch = await challenge(app, "/challenge", "https://evil.example:8443");
    expect(ch.domain).toBe(`${HOST}:8443`);
  });

  test("an expired nonce is refused even with a correct signature", async () => {
    let t = Date.now();
    const { app } = loginApp({ now: () => t });
    const ch = await challenge(app);
    const body = await sign(ch);
    t += 300_001;
    const late = await verify(app, body);
    expect(late.status).toBe(403);
    expect(((await late.json()) as { reason: string }).reason).toBe("nonce");
  });

  test("a signature by another key than the message's address is refused", async () => {
    const { app } = loginApp();
    const ch = await challenge(app);
    const mine = await sign(ch);
    const forged = { message: mine.message, signature: await other.signMessage({ message: mine.message }) };
    const r = await verify(app, forged);
    expect(((await r.json()) as { reason: string }).reason).toBe("signature");
  });

  test("a nonce issued for one subject does not sign in for another", async () => {
    const { app } = loginApp();
    const ch = (await (await app.request(`https://${HOST}/challenge/7`)).json()) as SiweChallenge;
    const r = await verify(app, await sign(ch, { statement: "Sign in about 8." }), "/verify/8");
    expect(((await r.json()) as { reason: string }).reason).toBe("subject");
  });
});

describe("NonceStore", () => {
  test("a flood from other clients cannot evict a pending nonce: the full store refuses the flood instead", () => {
    const store = new NonceStore({ ttlMs: 60_000, maxPending: 10, perClient: 3 });
    const admin = store.issue("198.51.100.7", "", HOST)!;
    let refused = 0;
    for (let i = 0; i < 1000; i++) if (!store.issue(addressKey(`2001:db8:${i}::1`), "", HOST)) refused++;
    expect(refused).toBe(1000 - 9);
    expect(store.take(admin.nonce)?.client).toBe("198.51.100.7");
  });

  test("a client's own nonces make room for its new ones; one IPv6 /64 is one client", () => {
    const store = new NonceStore({ ttlMs: 60_000, maxPending: 10, perClient: 2 });
    const first = store.issue(addressKey("2001:db8:1:2::1"), "", HOST)!;
    store.issue(addressKey("2001:db8:1:2::abcd"), "", HOST);
    store.issue(addressKey("2001:db8:1:2:ffff::9"), "", HOST);
    expect(store.size).toBe(2);
    expect(store.take(first.nonce)).toBeNull();
  });
});

describe("WalletSessions", () => {
  test("the cookie is __Host-, HttpOnly, Secure, SameSite=Strict and signed; a tampered cookie is no session", async () => {
    const sessions = new WalletSessions({ cookieName: "bh_test", idleMs: 60_000 });
    const app = new Hono<WalletEnv>();
    app.post("/login", async (c) => c.json({ id: (await sessions.start(c, holder.address)).id }));
    app.use("/me/*", sessions.require(), sessions.csrf());
    app.get("/me/wallet", (c) => c.text(c.get("walletSession").wallet));
    app.post("/me/act", (c) => c.text("done"));
    const r = await app.request("https://h/login", { method: "POST" });
    const set = r.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^__Host-bh_test=/);
    for (const flag of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) expect(set).toContain(flag);
    const cookie = set.split(";")[0]!;
    expect((await app.request("https://h/me/wallet", { headers: { cookie } })).status).toBe(200);
    const { id } = (await r.json()) as { id: string };
    const forged = `__Host-bh_test=${encodeURIComponent(id)}`;
    expect((await app.request("https://h/me/wallet", { headers: { cookie: forged } })).status).toBe(401);
    // Flip the signature's first character: its last one carries base64 padding bits, so changing it
    // can leave the decoded signature the same.
    const signatureAt = cookie.lastIndexOf(".") + 1;
    const flipped =
      cookie.slice(0, signatureAt) + (cookie[signatureAt] === "A" ? "B" : "A") + cookie.slice(signatureAt + 1);
    expect((await app.request("https://h/me/wallet", { headers: { cookie: flipped } })).status).toBe(401);
    expect((await app.request("https://h/me/act", { method: "POST", headers: { cookie } })).status).toBe(403);
  });
});
