/** Pieces of the public web front that need no chain: rate limits, explorers, the HTTP redirect app, the page markup. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { plainAddress } from "../../../src/web/public/admin/knock-active.ts";
import { explorerFor } from "../../../src/web/public/explorer.ts";
import { httpsOrigin, redirectApp } from "../../../src/web/public/https.ts";
import { SignupPage } from "../../../src/web/public/pages/signup.tsx";
import { RateLimiter } from "../../../src/web/public/rate-limit.ts";
import type { SignupData } from "../../../src/web/public/signup-data.ts";

describe("rate limiter", () => {
  test("allows the budget per window and key, then refuses until the window ends", () => {
    let t = 0;
    const r = new RateLimiter(2, 60_000, () => t);
    expect([r.hit("a"), r.hit("a"), r.hit("a"), r.hit("b")]).toEqual([true, true, false, true]);
    expect(r.retryAfter("a")).toBe(60);
    t = 60_000;
    expect(r.hit("a")).toBe(true);
  });
});

test("explorer links by chain id, none for a devnet", () => {
  expect(explorerFor(1)).toBe("https://etherscan.io");
  expect(explorerFor(11155111)).toBe("https://sepolia.etherscan.io");
  expect(explorerFor(31337)).toBeNull();
});

describe("HTTP side of serve", () => {
  test("redirects to the configured HTTPS origin (not the request's Host) and serves ACME tokens only", async () => {
    const root = mkdtempSync(join(tmpdir(), "bh-acme-"));
    const saved = process.env.BLOCKHOST_ROOT;
    process.env.BLOCKHOST_ROOT = root;
    try {
      const dir = join(root, "var/lib/blockhost/acme-challenge");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "abc_DEF-1"), "abc_DEF-1.key");
      const app = redirectApp(httpsOrigin("host.example", 443));
      const r = await app.request("http://evil.example/signup?a=1");
      expect(r.status).toBe(301);
      expect(r.headers.get("location")).toBe("https://host.example/signup?a=1");
      expect(await (await app.request("/.well-known/acme-challenge/abc_DEF-1")).text()).toBe("abc_DEF-1.key");
      expect((await app.request("/.well-known/acme-challenge/a.b")).status).toBe(404);
      expect(httpsOrigin("2001:db8::1", 8443)).toBe("https://[2001:db8::1]:8443");
    } finally {
      if (saved === undefined) delete process.env.BLOCKHOST_ROOT;
      else process.env.BLOCKHOST_ROOT = saved;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

test("the signup page renders chain-supplied plan names as text", () => {
  const data: SignupData = {
    chainId: 31337,
    rpcUrl: "http://127.0.0.1:8545",
    subscriptions: "0x0000000000000000000000000000000000000001",
    nft: "0x0000000000000000000000000000000000000002",
    stablecoin: { address: "0x0000000000000000000000000000000000000003", symbol: "USDC", decimals: 6 },
    serverPublicKey: "0x04",
    publicSecret: "blockhost-access",
    explorer: null,
    plans: [{ id: 1, name: "<img src=x onerror=alert(1)>", price_cents_per_day: 150, active: true }],
  };
  const html = String(<SignupPage title="Shop" accent="#123456" nonce="n1" data={data} />);
  expect(html).not.toContain("<img");
  expect(html).toContain("&lt;img src=x onerror=alert(1)&gt; — $1.50 per day");
  expect(html).toContain('<script type="module" src="/assets/signup.js" nonce="n1">');
});

test("knock.active gets a plain address: IPv4 clients of a dual-stack socket lose ::ffff:, junk is dropped", () => {
  expect(plainAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
  expect(plainAddress("203.0.113.7")).toBe("203.0.113.7");
  expect(plainAddress("2001:db8::7")).toBe("2001:db8::7");
  expect(plainAddress("local")).toBeNull();
  expect(plainAddress("1.2.3.4\nrm")).toBeNull();
});
