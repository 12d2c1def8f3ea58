/** serve's certificate over ACME against Debian's pebble: issue, keep, renew with a listener swap, fall back. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import tls from "node:tls";
import { DAY_MS } from "../../../src/core/clock.ts";
import { type CertificatePlan, ensureServeCertificate, type TlsFiles } from "../../../src/network/certificates.ts";
import { swappableTlsServer } from "../../../src/network/tls-listener.ts";
import { ensureSelfSigned, runLocalOpenssl } from "../../../src/core/self-signed-cert.ts";
import { actionRunner } from "../../helpers/action-context.ts";
import { tempDir } from "../../helpers/binary.ts";
import { type Pebble, pebbleUnavailable, startPebble } from "../../helpers/pebble.ts";

const skip = pebbleUnavailable();
if (skip) console.log(`skipping ACME tests: ${skip}`);

const HOST = "host.blockhost.test";

describe.skipIf(!!skip)("ACME certificates against pebble", () => {
  let root: ReturnType<typeof tempDir>;
  let pebble: Pebble;
  let challenges: ReturnType<typeof Bun.serve>;
  const savedRoot = process.env.BLOCKHOST_ROOT;
  const act = actionRunner({});
  let first: TlsFiles;
  let firstSerial: string;

  beforeAll(async () => {
    root = tempDir("bh-acme-");
    process.env.BLOCKHOST_ROOT = root.dir;
    pebble = await startPebble(join(root.dir, "pebble"));
    // serve's port-80 role: answer /.well-known/acme-challenge/<token> from the challenge dir.
    challenges = Bun.serve({
      hostname: "127.0.0.1",
      port: pebble.httpPort,
      fetch: async (req) => {
        const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(new URL(req.url).pathname)?.[1];
        const file = token ? Bun.file(join(root.dir, "var/lib/blockhost/acme-challenge", token)) : null;
        return file && (await file.exists())
          ? new Response(await file.text())
          : new Response("not found", { status: 404 });
      },
    });
  });
  afterAll(async () => {
    challenges?.stop(true);
    await pebble?.stop();
    root?.cleanup();
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = savedRoot;
  });

  const selfSigned = async (): Promise<TlsFiles> => {
    const dir = join(root.dir, "var/lib/blockhost/tls-fallback");
    mkdirSync(dir, { recursive: true });
    const files = { cert_file: join(dir, "cert.pem"), key_file: join(dir, "key.pem") };
    await ensureSelfSigned(
      { cert: files.cert_file, key: files.key_file },
      { names: [HOST], keyMode: 0o600, days: 30, run: runLocalOpenssl },
    );
    return files;
  };
  const plan = (over: Partial<CertificatePlan> = {}): CertificatePlan => ({
    hostname: HOST,
    acme: {
      directoryUrl: pebble.directoryUrl,
      accountKeyFile: join(root.dir, "var/lib/blockhost/acme/account.key"),
      challengeDir: join(root.dir, "var/lib/blockhost/acme-challenge"),
      directoryCaPem: pebble.apiCaPem,
      // The test name resolves only in pebble's mock DNS, not for the client's own pre-check.
      selfCheck: false,
      retry: { attempts: 1, delaySeconds: 0 },
    },
    current: null,
    install: async (issued) => {
      const r = await act("tls-install", { cert: issued.certPem, key: issued.keyPem });
      return { cert_file: String(r.cert_file), key_file: String(r.key_file) };
    },
    selfSigned,
    ...over,
  });
  const peerSerial = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const c = tls.connect({ host: "127.0.0.1", port, servername: HOST, rejectUnauthorized: false }, () => {
        resolve(c.getPeerX509Certificate()!.serialNumber);
        c.end();
      });
      c.on("error", reject);
    });

  test("issues a certificate for the host name, chained to pebble's root, stored by the agent", async () => {
    const out = await ensureServeCertificate(plan());
    expect(out.changed).toBe(true);
    expect(out.status).toMatchObject({ hostname: HOST, self_signed: false, reason: null });
    expect(out.files.cert_file).toBe(join(root.dir, "etc/blockhost/tls/cert.pem"));
    expect(statSync(out.files.key_file).mode & 0o777).toBe(0o640);
    const chain = readFileSync(out.files.cert_file, "utf8")
      .split(/(?<=-----END CERTIFICATE-----)\s*/)
      .filter(Boolean)
      .map((p) => new X509Certificate(p));
    const rootCa = new X509Certificate(await pebble.rootPem());
    expect(chain[0]!.checkHost(HOST)).toBe(HOST);
    expect(chain[0]!.verify(chain[1]!.publicKey)).toBe(true);
    expect(chain[1]!.verify(rootCa.publicKey)).toBe(true);
    expect(readFileSync(out.files.cert_file, "utf8")).not.toContain("PRIVATE KEY");
    first = out.files;
    firstSerial = chain[0]!.serialNumber;
  }, 60_000);

  test("a fresh ACME certificate is kept without asking the CA", async () => {
    let asked = false;
    const out = await ensureServeCertificate(
      plan({
        current: { ...first, acme: true },
        obtain: async () => {
          asked = true;
          throw new Error("must not be called");
        },
      }),
    );
    expect(asked).toBe(false);
    expect(out).toMatchObject({ changed: false, files: first, status: { self_signed: false, reason: null } });
  });

  test("renews when the expiry is near, and the running listener serves the new certificate without a restart", async () => {
    const listener = swappableTlsServer({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") }, first);
    try {
      expect(await peerSerial(listener.port)).toBe(firstSerial);
      const notAfter = Date.parse(new X509Certificate(readFileSync(first.cert_file)).validTo);
      const out = await ensureServeCertificate(
        plan({ current: { ...first, acme: true }, now: new Date(notAfter - 10 * DAY_MS) }),
      );
      expect(out.status.reason).toBeNull();
      expect(out.changed).toBe(true);
      const renewed = new X509Certificate(readFileSync(out.files.cert_file)).serialNumber;
      expect(renewed).not.toBe(firstSerial);
      listener.swap(out.files);
      expect(await peerSerial(listener.port)).toBe(renewed);
    } finally {
      await listener.stop();
    }
  }, 60_000);

  test("with pebble stopped: a due renewal keeps the valid certificate, a host without one falls back to self-signed, each with the reason", async () => {
    await pebble.stop();
    const notAfter = Date.parse(new X509Certificate(readFileSync(first.cert_file)).validTo);
    const kept = await ensureServeCertificate(
      plan({ current: { ...first, acme: true }, now: new Date(notAfter - 10 * DAY_MS) }),
    );
    expect(kept.changed).toBe(false);
    expect(kept.status.self_signed).toBe(false);
    expect(kept.status.reason).toMatch(
      /^renewal pending: ACME failed: ACME server https:\/\/127\.0\.0\.1:\d+\/dir unreachable \(ECONNREFUSED\)$/,
    );

    const fallback = await ensureServeCertificate(plan());
    expect(fallback.changed).toBe(true);
    expect(fallback.status.self_signed).toBe(true);
    expect(fallback.status.reason).toMatch(/^ACME failed: ACME server .* unreachable/);
    expect(existsSync(fallback.files.cert_file)).toBe(true);
    expect(new X509Certificate(readFileSync(fallback.files.cert_file)).checkHost(HOST)).toBe(HOST);
  }, 60_000);

  test("tls-install refuses a key that is not the certificate's", async () => {
    const other = await selfSigned();
    await expect(
      act("tls-install", { cert: readFileSync(first.cert_file, "utf8"), key: readFileSync(other.key_file, "utf8") }),
    ).rejects.toMatchObject({ code: "E_INVALID_INPUT" });
  });
});
