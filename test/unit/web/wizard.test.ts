/** The wizard's gate through app.request(): OTP login and its 10-try limit, sessions on every route, CSRF on every POST. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { AgentClient } from "../../../src/agent/client.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { migrate } from "../../../src/core/state/db.ts";
import { createWizardApp } from "../../../src/web/wizard/app.ts";
import { OTP_ALPHABET, OtpStore } from "../../../src/web/wizard/otp.ts";
import { sealDraft, openBackup } from "../../../src/web/wizard/backup.ts";
import { tempDir } from "../../helpers/binary.ts";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const;

let dir: ReturnType<typeof tempDir>;
let otp: OtpStore;
let code: string;
let wizard: ReturnType<typeof createWizardApp>;

beforeEach(() => {
  dir = tempDir("blockhost-wizard-unit-");
  otp = new OtpStore(join(dir.dir, "otp.json"));
  code = otp.generate();
  const db = new Database(":memory:");
  migrate(db, MIGRATIONS);
  wizard = createWizardApp({ otp, db, agent: new AgentClient({ socketPath: join(dir.dir, "none.sock") }), tls: false });
});
afterEach(() => rmSync(dir.dir, { recursive: true, force: true }));

const form = (fields: Record<string, string>, cookie = "") => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(fields).toString(),
});
const cookieOf = (r: Response) => (r.headers.get("set-cookie") ?? "").split(";")[0]!;

async function login(): Promise<{ cookie: string; csrf: string }> {
  const r = await wizard.app.request("/login", form({ otp: code.toLowerCase() }));
  expect(r.status).toBe(303);
  const cookie = cookieOf(r);
  const page = await (await wizard.app.request("/wizard/wallet", { headers: { cookie } })).text();
  const csrf = /&quot;csrf&quot;:&quot;([A-Za-z0-9_-]+)&quot;/.exec(page)![1]!;
  return { cookie, csrf };
}

describe("OTP", () => {
  test("6 characters from the unambiguous alphabet, stored 0600", () => {
    expect(code).toMatch(new RegExp(`^[${OTP_ALPHABET}]{6}$`));
    expect(statSync(join(dir.dir, "otp.json")).mode & 0o777).toBe(0o600);
  });

  test("10 wrong codes invalidate it: the right code is refused afterwards", async () => {
    for (let i = 0; i < 10; i++) {
      const r = await wizard.app.request("/login", form({ otp: "WRONG1" }));
      expect(r.status).toBe(401);
    }
    const r = await wizard.app.request("/login", form({ otp: code }));
    expect(r.status).toBe(401);
    expect(await r.text()).toContain("Too many wrong codes");
    expect(r.headers.get("set-cookie")).toBeNull();
  });

  test("the right code logs in with an HttpOnly SameSite=Strict cookie", async () => {
    const r = await wizard.app.request("/login", form({ otp: code }));
    expect(r.status).toBe(303);
    expect(r.headers.get("set-cookie")).toMatch(/HttpOnly/);
    expect(r.headers.get("set-cookie")).toMatch(/SameSite=Strict/);
  });
});

describe("routes", () => {
  test("every route but the login is refused without a session", async () => {
    const pages = [
      "/wizard/wallet",
      "/wizard/network",
      "/wizard/blockchain",
      "/wizard/summary",
      "/api/finalize/status",
      "/api/finalize/config",
    ];
    for (const path of pages) {
      const r = await wizard.app.request(path);
      expect({ path, status: r.status }).toEqual({ path, status: path.startsWith("/api/") ? 401 : 303 });
      if (r.status === 303) expect(r.headers.get("location")).toBe("/login");
    }
    for (const path of ["/api/wallet", "/api/restore", "/api/finalize", "/api/finalize/retry", "/wizard/network"]) {
      expect((await wizard.app.request(path, { method: "POST", body: "{}" })).status).toBe(401);
    }
  });

  test("a POST without the CSRF token is 403; with it, it is served", async () => {
    const { cookie, csrf } = await login();
    const fields = { ipv4_network: "10.0.0.0/24", ipv4_start: "10", ipv4_end: "20", ipv4_gateway: "10.0.0.1" };
    expect((await wizard.app.request("/wizard/network", form(fields, cookie))).status).toBe(403);
    expect(
      (
        await wizard.app.request("/api/finalize", {
          method: "POST",
          headers: { cookie, "content-type": "application/json" },
          body: "{}",
        })
      ).status,
    ).toBe(403);
    // With the token but before the wallet gate: sent back to the wallet page.
    const gated = await wizard.app.request("/wizard/network", form({ ...fields, csrf }, cookie));
    expect(gated.headers.get("location")).toBe("/wizard/wallet");
  });

  test("the wallet gate accepts only the wallet's own signature of the public secret", async () => {
    const { cookie, csrf } = await login();
    const account = privateKeyToAccount(KEY);
    const post = (body: unknown) =>
      wizard.app.request("/api/wallet", {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const other = await account.signMessage({ message: "something else" });
    expect((await post({ address: account.address, signature: other })).status).toBe(400);
    const good = await account.signMessage({ message: "blockhost-access" });
    const r = await post({ address: account.address, signature: good });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ wallet: account.address });
    const bad = await wizard.app.request(
      "/wizard/network",
      form({ ipv4_network: "10.0.0.1/24", ipv4_start: "10", ipv4_end: "20", ipv4_gateway: "10.0.0.1", csrf }, cookie),
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("network.ipv4.network: expected an IPv4 network");
  });
});

describe("backup", () => {
  test("opens only with the admin's signature and restores the same draft", async () => {
    const account = privateKeyToAccount(KEY);
    const signature = await account.signMessage({ message: "blockhost-access" });
    const draft = {
      admin: { wallet: account.address, public_secret: "blockhost-access", signature },
      network: {
        ipv4: { network: "10.0.0.0/24", start: 10, end: 20, gateway: "10.0.0.1" },
        ipv6: "none" as const,
        gc_grace_days: 7,
      },
      deployer_key: "11".repeat(32),
    };
    const sealed = sealDraft(draft, signature);
    expect(sealed).not.toContain("10.0.0.0");
    expect(openBackup(sealed, signature, account.address)).toEqual({
      network: draft.network,
      deployer_key: draft.deployer_key,
    });
    const stranger = await privateKeyToAccount(`0x${"22".repeat(32)}`).signMessage({ message: "blockhost-access" });
    expect(() => openBackup(sealed, stranger, account.address)).toThrow("does not open with your wallet's signature");
  });
});
