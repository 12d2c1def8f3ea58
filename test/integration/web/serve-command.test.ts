/** `blockhost serve` through the compiled binary: HTTPS from https.json, HTTP redirect and ACME tokens, config and usage errors. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv } from "../../helpers/engine-env.ts";
import { startServe, writeHttpsConfig, type ServeProcess } from "../../helpers/serve.ts";

setDefaultTimeout(60_000);
const insecure = { tls: { rejectUnauthorized: false } } as RequestInit;

describe.skipIf(!anvilAvailable())("blockhost serve (compiled binary, TLS on loopback)", () => {
  let env: EngineEnv;
  let serve: ServeProcess;

  beforeAll(async () => {
    env = await EngineEnv.create();
    await writeHttpsConfig(env.root);
    serve = await startServe(env.root);
  });
  afterAll(async () => {
    if (serve) expect(await serve.stop()).toBe(0);
    await env?.stop();
  });

  test("answers the status API over HTTPS with the certificate from https.json", async () => {
    const r = await fetch(`${serve.origin}/api/v1/status`, insecure);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { chain_id: number }).chain_id).toBe(env.anvil.chainId);
  });

  test("plain HTTP redirects to the HTTPS origin; ACME tokens are served from the state dir", async () => {
    const http = `http://127.0.0.1:${serve.httpPort}`;
    const r = await fetch(`${http}/admin?x=1`, { redirect: "manual" });
    expect(r.status).toBe(301);
    expect(r.headers.get("location")).toBe(`${serve.origin}/admin?x=1`);
    const dir = join(env.root, "var/lib/blockhost/acme-challenge");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tok_123-abc"), "tok_123-abc.thumbprint");
    const acme = await fetch(`${http}/.well-known/acme-challenge/tok_123-abc`);
    expect(acme.status).toBe(200);
    expect(await acme.text()).toBe("tok_123-abc.thumbprint");
    expect((await fetch(`${http}/.well-known/acme-challenge/missing`)).status).toBe(404);
    expect((await fetch(`${http}/.well-known/acme-challenge/..%2Fhttps.json`)).status).not.toBe(200);
  });

  test("without https.json it exits 78 naming the file; a bad port is a usage error", async () => {
    const bare = await EngineEnv.create();
    try {
      const r = await runBlockhost(["serve", "--port", "0", "--http-port", "off"], { root: bare.root });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("https.json");
      const bad = await runBlockhost(["serve", "--port", "99999"], { root: bare.root });
      expect(bad.code).toBe(2);
    } finally {
      await bare.stop();
    }
  });
});
