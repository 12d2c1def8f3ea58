/** `blockhost serve` keeping its certificate over ACME (pebble): issue at start, renew on SIGHUP, fall back. */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { type CertificateStatus, readCertificateStatus } from "../../../src/network/certificates.ts";
import { type RunningAgent, startAgent } from "../../helpers/agent.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv } from "../../helpers/engine-env.ts";
import { type Pebble, pebbleUnavailable, startPebble } from "../../helpers/pebble.ts";
import { type ServeProcess, startServe, writeHttpsConfig } from "../../helpers/serve.ts";

setDefaultTimeout(90_000);
const skip = pebbleUnavailable() ?? (anvilAvailable() ? undefined : "anvil is not available");
if (skip) console.log(`skipping serve ACME test: ${skip}`);

const HOST = "host.blockhost.test";

/** The certificate serve presents for HOST (not verified: the test checks its issuer itself). */
function peerCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: "127.0.0.1", port, servername: HOST, rejectUnauthorized: false }, () => {
      resolve(c.getPeerX509Certificate()!);
      c.end();
    });
    c.on("error", reject);
  });
}

describe.skipIf(!!skip)("blockhost serve with https.json acme settings (pebble on loopback)", () => {
  let env: EngineEnv;
  let pebble: Pebble;
  let agent: RunningAgent;
  let serve: ServeProcess;
  let port: number;
  let issuedSerial: string;

  const status = (): CertificateStatus | null => {
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"), { readonly: true });
    try {
      return readCertificateStatus(db);
    } finally {
      db.close();
    }
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    for (let i = 0; i < 300; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await Bun.sleep(100);
    }
    throw new Error(`timed out waiting for ${what}; serve log:\n${serve?.log()}`);
  };
  const configure = async () => {
    await writeHttpsConfig(env.root);
    const file = join(env.root, "etc/blockhost/https.json");
    const caFile = join(env.root, "pebble-api-ca.pem");
    writeFileSync(caFile, pebble.apiCaPem);
    const https = JSON.parse(readFileSync(file, "utf8"));
    // renew_before_days beyond pebble's certificate lifetime: every check renews.
    https.acme = {
      directory_url: pebble.directoryUrl,
      domain: HOST,
      ca_file: caFile,
      self_check: false,
      renew_before_days: 3650,
    };
    writeFileSync(file, JSON.stringify(https));
  };

  beforeAll(async () => {
    env = await EngineEnv.create();
    pebble = await startPebble(join(env.root, "pebble"));
    agent = await startAgent({ root: env.root });
    await configure();
    serve = await startServe(env.root, { httpPort: pebble.httpPort });
    port = Number(new URL(serve.origin).port);
  });
  afterAll(async () => {
    if (serve) await serve.stop();
    await agent?.stop();
    await pebble?.stop();
    await env?.stop();
  });

  test("at start serve orders a certificate for the domain and swaps it in; status says ACME", async () => {
    expect(serve.origin).toBe(`https://${HOST}:${port}`);
    const s = await until("an ACME status", () => (status()?.self_signed === false ? status()! : undefined));
    expect(s).toMatchObject({ hostname: HOST, reason: null });
    const cert = await until("the ACME certificate on the listener", async () => {
      const c = await peerCertificate(port);
      return c.checkIssued(c) ? undefined : c;
    });
    expect(cert.checkHost(HOST)).toBe(HOST);
    expect(cert.issuer).toContain("Pebble");
    // Stored by the agent where https.json points, key not world-readable.
    expect(readFileSync(join(env.root, "etc/blockhost/tls/cert.pem"), "utf8")).toContain(cert.toString().trim());
    issuedSerial = cert.serialNumber;
    const out = await runBlockhost(["status"], { root: env.root });
    expect(out.stdout).toContain(`https:    ${HOST}: ACME, valid until`);
  });

  test("SIGHUP renews when due: the same process serves a new certificate on the same port", async () => {
    const pid = serve.proc.pid;
    serve.proc.kill("SIGHUP");
    const renewed = await until("a renewed certificate", async () => {
      const c = await peerCertificate(port);
      return c.serialNumber !== issuedSerial && !c.checkIssued(c) ? c : undefined;
    });
    expect(renewed.checkHost(HOST)).toBe(HOST);
    expect(serve.proc.exitCode).toBeNull();
    expect(serve.proc.pid).toBe(pid);
    const r = await fetch(`https://127.0.0.1:${port}/api/v1/status`, { tls: { rejectUnauthorized: false } });
    expect(r.status).toBe(200);
    issuedSerial = renewed.serialNumber;
  });

  test("pebble stopped: a still-valid certificate is kept, renewal reported pending", async () => {
    await pebble.stop();
    const before = status()!.checked_at;
    serve.proc.kill("SIGHUP");
    const s = await until("a pending renewal", () => {
      const now = status();
      return now && now.checked_at !== before ? now : undefined;
    });
    expect(s.self_signed).toBe(false);
    expect(s.reason).toMatch(/^renewal pending: ACME failed: ACME server https:\/\/127\.0\.0\.1:\d+\/dir unreachable/);
    expect((await peerCertificate(port)).serialNumber).toBe(issuedSerial);
  });

  test("pebble stopped and no ACME certificate: serve falls back to self-signed and status says why", async () => {
    expect(await serve.stop()).toBe(0);
    await writeHttpsConfig(env.root); // finalize's self-signed certificate (for 127.0.0.1) again, acme settings kept below
    const file = join(env.root, "etc/blockhost/https.json");
    const https = JSON.parse(readFileSync(file, "utf8"));
    https.acme = { directory_url: pebble.directoryUrl, domain: HOST, self_check: false };
    writeFileSync(file, JSON.stringify(https));
    serve = await startServe(env.root, { httpPort: pebble.httpPort });
    port = Number(new URL(serve.origin).port);
    const s = await until("a self-signed fallback", () => {
      const now = status();
      return now?.self_signed && now.reason?.startsWith("ACME failed") ? now : undefined;
    });
    expect(s.reason).toContain("unreachable");
    const cert = await until("the fallback certificate for the domain", async () => {
      const c = await peerCertificate(port);
      return c.checkHost(HOST) ? c : undefined;
    });
    expect(cert.checkIssued(cert)).toBe(true);
    const out = await runBlockhost(["status"], { root: env.root });
    expect(out.stdout).toContain(`https:    ${HOST}: SELF-SIGNED`);
    expect(out.stdout).toContain("ACME failed: ACME server");
  });
});
