/**
 * Wallet sign-ins of the public web front through app.request against anvil: the admin's pending
 * nonce survives an anonymous flood, a session stops working the moment its wallet no longer holds
 * the admin NFT, and the status API publishes the public RPC, never the operator's.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { publicApp } from "../../../src/web/public/app.tsx";
import { loadServeDeps, type ServeDeps } from "../../../src/web/public/deps.ts";
import type { SiweChallenge } from "../../../src/web/session/index.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { EngineEnv, OWNER } from "../../helpers/engine-env.ts";
import { writeHttpsConfig } from "../../helpers/serve.ts";
import { signChallenge } from "../../helpers/siwe.ts";

setDefaultTimeout(120_000);
const PUBLIC_RPC = "https://rpc.example.net/public";
const NEXT_HOLDER = 6;

describe.skipIf(!anvilAvailable())("wallet sign-in on the public web front (anvil, app.request)", () => {
  let env: EngineEnv;
  let deps: ServeDeps;
  let app: ReturnType<typeof publicApp>;
  const savedRoot = process.env.BLOCKHOST_ROOT;
  /** Bun.serve's view of the peer, so each request comes from `address`. */
  const peer = (address: string) => ({
    requestIP: () => ({ address, family: address.includes(":") ? "IPv6" : "IPv4", port: 40000 }),
  });
  const call = (path: string, init: RequestInit = {}, from = "192.0.2.10") =>
    app.request(`https://127.0.0.1${path}`, init, peer(from));
  const postJson = (path: string, body: unknown, from?: string, headers: Record<string, string> = {}) =>
    call(
      path,
      { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) },
      from,
    );
  const account = (i: number) => privateKeyToAccount(env.anvil.accounts[i]!.privateKey);

  beforeAll(async () => {
    env = await EngineEnv.create();
    await env.mintTo(OWNER);
    await writeHttpsConfig(env.root);
    const web3 = join(env.root, "etc/blockhost/web3-defaults.yaml");
    writeFileSync(web3, readFileSync(web3, "utf8").replace(/^(blockchain:\n)/, `$1  public_rpc_url: ${PUBLIC_RPC}\n`));
    process.env.BLOCKHOST_ROOT = env.root;
    deps = loadServeDeps({ tls: true });
    // Limits high enough that the flood reaches the nonce store (the per-client limiter is tested elsewhere).
    app = publicApp(deps, { authPerMinute: 100_000, apiPerMinute: 100_000 });
  });
  afterAll(async () => {
    process.env.BLOCKHOST_ROOT = savedRoot ?? "";
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    deps?.db.close();
    await env?.stop();
  });

  test("an anonymous flood of admin and reveal challenges cannot evict the admin's pending nonce", async () => {
    const mine = (await (await postJson("/admin/login/challenge", {}, "198.51.100.7")).json()) as SiweChallenge;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1_200; i++) {
      const from = `2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}::1`;
      const admin = await postJson("/admin/login/challenge", {}, from);
      statuses.set(admin.status, (statuses.get(admin.status) ?? 0) + 1);
      await postJson(`/api/v1/credentials/${i % 50}/challenge`, {}, from);
    }
    // The store filled up and refused the rest of the flood rather than dropping anyone's nonce.
    expect(statuses.get(429)).toBeGreaterThan(0);
    const signed = await signChallenge(mine, account(OWNER));
    const r = await postJson("/admin/login", signed, "198.51.100.7");
    expect(r.status).toBe(200);
    expect(r.headers.get("set-cookie")).toMatch(/^__Host-bh_admin=.*HttpOnly.*Secure.*SameSite=Strict/);
  });

  test("a message signed for another host or chain, or replayed, does not sign in", async () => {
    const fresh = async () => (await (await postJson("/admin/login/challenge", {})).json()) as SiweChallenge;
    const other = await signChallenge(await fresh(), account(OWNER), {
      domain: "blockhost.example",
      uri: "https://blockhost.example",
    });
    expect((await postJson("/admin/login", other)).status).toBe(403);
    const chain = await signChallenge(await fresh(), account(OWNER), { chainId: 1 });
    expect((await postJson("/admin/login", chain)).status).toBe(403);
    const good = await signChallenge(await fresh(), account(OWNER));
    expect((await postJson("/admin/login", good)).status).toBe(200);
    expect((await postJson("/admin/login", good)).status).toBe(403);
  });

  test("after the admin NFT moves, the old holder's live session can no longer act", async () => {
    const challenge = (await (await postJson("/admin/login/challenge", {})).json()) as SiweChallenge;
    const login = await postJson("/admin/login", await signChallenge(challenge, account(OWNER)));
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const page = await (await call("/admin/jobs", { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
    const retry = () =>
      call("/admin/jobs/retry", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf, key: "provision:1:424242" }),
      });
    // While it holds the NFT the action runs (and finds no such job).
    const before = await retry();
    expect(before.status).toBe(404);
    await env.transferNft(0, OWNER, NEXT_HOLDER);
    const after = await retry();
    expect(after.status).toBe(403);
    expect(await after.text()).toContain("no longer holds the admin NFT");
    expect((await call("/admin", { headers: { cookie } })).status).toBe(303);
  });

  test("the status API and the signup page offer the public RPC, never the operator's rpc_url", async () => {
    const status = (await (await call("/api/v1/status")).json()) as Record<string, unknown>;
    expect(status.public_rpc_url).toBe(PUBLIC_RPC);
    expect(status).not.toHaveProperty("rpc_url");
    const page = await (await call("/")).text();
    for (const body of [JSON.stringify(status), page]) expect(body).not.toContain(env.anvil.rpcUrl);
    expect(page).toContain(PUBLIC_RPC);
  });
});
