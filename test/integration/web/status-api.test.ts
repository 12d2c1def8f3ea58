/** The status API and the credential endpoints through app.request, against anvil and a running engine. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { bytesToHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { eciesEncrypt } from "../../../src/crypto/ecies.ts";
import { publicKeyOf } from "../../../src/crypto/keys.ts";
import { decryptWithSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import { publicApp } from "../../../src/web/public/app.tsx";
import { loadServeDeps, type ServeDeps } from "../../../src/web/public/deps.ts";
import type { SiweChallenge } from "../../../src/web/session/index.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv, eventually, type EngineProcess } from "../../helpers/engine-env.ts";
import { writeHttpsConfig } from "../../helpers/serve.ts";
import { signChallenge } from "../../helpers/siwe.ts";

setDefaultTimeout(120_000);

type Json = Record<string, unknown>;

describe.skipIf(!anvilAvailable())("status API and credential details (anvil, engine, app.request)", () => {
  let env: EngineEnv;
  let engine: EngineProcess;
  let deps: ServeDeps;
  let app: ReturnType<typeof publicApp>;
  const savedRoot = process.env.BLOCKHOST_ROOT;
  const get = async (path: string) => {
    const r = await app.request(path);
    return { status: r.status, body: (await r.json()) as Json };
  };
  const post = async (path: string, body: unknown) => {
    const r = await app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  const ready = (id: number) =>
    eventually(async () => {
      const s = await get(`/api/v1/subscriptions/${id}`);
      return s.body.state === "ready" ? s.body : null;
    }, `subscription ${id} ready`);
  const account = (i: number) => privateKeyToAccount(env.anvil.accounts[i]!.privateKey);
  const vmList = async () =>
    JSON.parse((await runBlockhost(["vm", "list", "--json"], { root: env.root })).stdout) as Json[];

  beforeAll(async () => {
    env = await EngineEnv.create();
    process.env.BLOCKHOST_ROOT = env.root;
    engine = env.startEngine();
    // Sign-ins name the host's public name (https.json), as finalize writes it.
    await writeHttpsConfig(env.root);
    deps = loadServeDeps({ tls: false });
    app = publicApp(deps, { authPerMinute: 1000 });
  });
  afterAll(async () => {
    process.env.BLOCKHOST_ROOT = savedRoot ?? "";
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    await engine?.stop();
    deps?.db.close();
    await env?.stop();
  });

  test("status: version, chain, contracts, active plans, stablecoin and free capacity, no secrets", async () => {
    const s = await get("/api/v1/status");
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      chain_id: env.anvil.chainId,
      contracts: { subscriptions: env.subs, nft: env.nft },
      public_secret: "blockhost-access",
    });
    expect(s.body.plans).toEqual([{ id: 1, name: "Basic", price_cents_per_day: 100, active: true }]);
    expect(s.body.stablecoin).toMatchObject({ symbol: "USDC", decimals: 6 });
    // db.yaml of the test root: VMIDs 100..999, IPv4 .200-.250
    expect(s.body.capacity).toEqual({ vmids_left: 900, ipv4_left: 51, ipv6_left: null });
    expect(s.body.server_public_key).toBe(bytesToHex(publicKeyOf(env.serverKey)));
    expect(JSON.stringify(s.body)).not.toContain(bytesToHex(env.serverKey).slice(2));
  });

  test("a purchase goes from unseen to ready with its VM and token; capacity shrinks by one", async () => {
    const unseen = await get("/api/v1/subscriptions/999");
    expect(unseen.status).toBe(200);
    expect(unseen.body.state).toBe("unseen");
    expect((await get("/api/v1/subscriptions/abc")).status).toBe(400);
    const p = await env.buy(1, 30n);
    const s = await ready(p.subscriptionId);
    const vm = (await vmList()).find((v) => v.subscription_id === p.subscriptionId)!;
    expect(s).toMatchObject({
      vm_name: vm.vm_name,
      nft_token_id: vm.nft_token_id,
      details_in_nft: true,
      last_error: null,
      retrying: false,
    });
    expect(Date.parse(String(s.expires_at)) / 1000).toBe(Number((await env.subscription(p.subscriptionId)).expiresAt));
    // The host summary is cached for a second: the new allocation shows up within it.
    await eventually(
      async () => ((await get("/api/v1/status")).body.capacity as Json).ipv4_left === 50,
      "capacity shrinks by one",
    );
  });

  test("an empty-payload purchase is served: VM and NFT, details only to the holder's signature, then sealed into the NFT", async () => {
    const p = await env.buy(2, 30n, "0x");
    const s = await ready(p.subscriptionId);
    expect(s.details_in_nft).toBe(false);
    const token = String(s.nft_token_id);
    expect(await env.nftPayload(Number(token))).toBe("0x");
    const vm = (await vmList()).find((v) => v.subscription_id === p.subscriptionId)!;

    const challenge = async () =>
      (await post(`/api/v1/credentials/${token}/challenge`, {})).body as unknown as SiweChallenge;
    const details = (body: unknown) => post(`/api/v1/credentials/${token}/details`, body);
    const c1 = await challenge();
    expect(c1.statement).toContain(`#${token}`);
    const stranger = await details(await signChallenge(c1, account(3)));
    expect(stranger.status).toBe(403);
    // A signature the holder gave for another host, another chain or another token does not show the details.
    for (const patch of [{ domain: "evil.example", uri: "https://evil.example" }, { chainId: 1 }]) {
      const refused = await details(await signChallenge(await challenge(), account(2), patch));
      expect(refused.status).toBe(403);
    }
    const other = (await post(`/api/v1/credentials/${Number(token) + 1}/challenge`, {}))
      .body as unknown as SiweChallenge;
    expect((await details(await signChallenge(other, account(2), { statement: c1.statement }))).status).toBe(403);
    const signed = await signChallenge(await challenge(), account(2));
    const shown = await details(signed);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ hostname: vm.ip_address, port: 22, username: vm.username, vm_name: vm.vm_name });
    expect((await details(signed)).status).toBe(403); // single use
    expect((await details({ message: "hello", signature: signed.signature })).status).toBe(403);
    expect((await details({ message: signed.message, signature: "0x12" })).status).toBe(400);

    const holderSig = await env.signature(2);
    const sealFor = (s: Hex) => bytesToHex(eciesEncrypt(publicKeyOf(env.serverKey), new TextEncoder().encode(s)));
    expect((await post(`/api/v1/credentials/${token}/seal`, { payload: sealFor(await env.signature(3)) })).status).toBe(
      403,
    );
    expect((await post(`/api/v1/credentials/${token}/seal`, { payload: "0x1234" })).status).toBe(400);
    expect((await post(`/api/v1/credentials/${token}/seal`, { payload: sealFor(holderSig) })).status).toBe(202);
    const sealed = await eventually(async () => {
      const d = await env.nftPayload(Number(token));
      return d !== "0x" ? d : null;
    }, "NFT sealed");
    expect(JSON.parse(utf8(decryptWithSignature(holderSig, sealed)))).toEqual({
      hostname: vm.ip_address,
      port: 22,
      username: vm.username,
    });
    await eventually(
      async () => (await get(`/api/v1/subscriptions/${p.subscriptionId}`)).body.details_in_nft === true,
      "status shows sealed",
    );
  });

  test("the API is rate-limited per client", async () => {
    const limited = publicApp(deps, { apiPerMinute: 3 });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await limited.request("/api/v1/subscriptions/1")).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
  });
});
