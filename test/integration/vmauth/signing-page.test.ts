/** The in-VM signing page in Chromium. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { blockhostBinary, runBlockhost, tempDir } from "../../helpers/binary.ts";
import {
  loginMessage,
  MACHINE_ID,
  OWNER,
  parseChallenge,
  startSigningPage,
  writeVmRoot,
  type SigningPage,
} from "../../helpers/vmauth.ts";

/** Processes start here (the binary, openssl): bound each test generously; none asserts a duration. */
setDefaultTimeout(60_000);

// The in-VM signing page over real HTTPS: its certificate must name the signing host (the
// client below trusts only that certificate), and the callback API must refuse bad input.
const t = tempDir("blockhost-signing-page-");
const root = t.dir;
const passwd = [`alice:x:1000:1000:wallet=${OWNER.address},nft=0:/home/alice:/bin/sh`];
const certFile = join(root, "etc/libpam-web3/tls/cert.pem");
let page: SigningPage;
let base: string;

const get = (path: string) => fetch(`${base}${path}`, { tls: { ca: readFileSync(certFile, "utf8") } });
const post = (path: string, body: string) =>
  fetch(`${base}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "text/plain" },
    tls: { ca: readFileSync(certFile, "utf8") },
  });
async function challenge() {
  const r = await runBlockhost(["pam", "challenge"], { root, env: { PAM_USER: "alice" } });
  expect(r.code).toBe(0);
  return parseChallenge(r.stdout);
}

beforeAll(async () => {
  writeVmRoot(root, { passwd, signingHost: "127.0.0.1" });
  page = await startSigningPage(blockhostBinary(), root);
  base = `https://127.0.0.1:${page.port}`;
});
afterAll(async () => {
  await page?.stop();
  t.cleanup();
});

describe("signing page", () => {
  test("serves the page and its script over TLS with nosniff and no-store", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Sign in to your VM");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const js = await get("/engine.js");
    expect(js.headers.get("content-type")).toContain("javascript");
    expect(await js.text()).toContain("personal_sign");
  });

  test("the certificate is self-signed P-256 naming the signing host, private key 0600", () => {
    const cert = new X509Certificate(readFileSync(certFile));
    expect(cert.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(statSync(join(root, "etc/libpam-web3/tls/key.pem")).mode & 0o777).toBe(0o600);
  });

  test("GET /auth/pending: 400 for a malformed id, 404 for none, the code and machine for a live session", async () => {
    expect((await get("/auth/pending/not-hex")).status).toBe(400);
    expect((await get(`/auth/pending/${"a".repeat(32)}`)).status).toBe(404);
    const c = await challenge();
    const res = await get(`/auth/pending/${c.session}`);
    expect(res.status).toBe(200);
    // The page signs the exact text the SSH session showed, expiry included.
    expect(await res.json()).toEqual({
      otp: c.code,
      machine_id: MACHINE_ID,
      session_id: c.session!,
      expires: c.expires,
      message: c.message,
    });
  });

  test("POST /auth/callback: 404, 413, 400, then stores the normalised signature once (409 after)", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    const sigFile = join(root, "run/libpam-web3/pending", `${c.session}.sig`);
    expect((await post(`/auth/callback/${"b".repeat(32)}`, sig)).status).toBe(404);
    expect((await post(`/auth/callback/${c.session}`, `${sig}${" ".repeat(300)}`)).status).toBe(413);
    expect((await post(`/auth/callback/${c.session}`, "0x1234")).status).toBe(400);
    expect((await post(`/auth/callback/${c.session}`, "<script>")).status).toBe(400);
    expect(existsSync(sigFile)).toBe(false);
    const ok = await post(`/auth/callback/${c.session}`, sig.slice(2).toUpperCase());
    expect(ok.status).toBe(200);
    expect(readFileSync(sigFile, "utf8")).toBe(sig.toLowerCase());
    const again = await post(`/auth/callback/${c.session}`, sig);
    expect(again.status).toBe(409);
    expect(readFileSync(sigFile, "utf8")).toBe(sig.toLowerCase());
  });

  test("HTTP/1.0 without a Host header reaches the same routes (pending session, then the callback)", async () => {
    /** One raw HTTP/1.0 exchange over TLS: the server closes the connection after answering. */
    const http10 = (head: string, body = "") =>
      new Promise<string>((resolve, reject) => {
        let got = "";
        const sock = tlsConnect({ host: "127.0.0.1", port: page.port, ca: readFileSync(certFile, "utf8") }, () =>
          sock.write(`${head}\r\n${body ? `Content-Length: ${body.length}\r\n` : ""}\r\n${body}`),
        );
        sock.on("data", (d) => (got += d.toString()));
        sock.on("end", () => resolve(got));
        sock.on("error", reject);
      });
    const c = await challenge();
    const pending = await http10(`GET /auth/pending/${c.session} HTTP/1.0`);
    expect(pending).toMatch(/^HTTP\/1\.[01] 200/);
    expect(JSON.parse(pending.slice(pending.indexOf("\r\n\r\n") + 4))).toMatchObject({ otp: c.code });
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    expect(await http10(`POST /auth/callback/${c.session} HTTP/1.0`, sig)).toMatch(/^HTTP\/1\.[01] 200/);
    expect(readFileSync(join(root, "run/libpam-web3/pending", `${c.session}.sig`), "utf8")).toBe(sig.toLowerCase());
    expect(await http10("GET * HTTP/1.0")).toMatch(/^HTTP\/1\.[01] 400/);
  });

  test("a chunked body over 256 bytes is refused (413) and a trickling one is cut off (408)", async () => {
    const c = await challenge();
    const chunks = [new Uint8Array(200).fill(48), new Uint8Array(200).fill(48)];
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        const next = chunks.shift();
        if (next) ctrl.enqueue(next);
        else ctrl.close();
      },
    });
    const big = await fetch(`${base}/auth/callback/${c.session}`, {
      method: "POST",
      body: stream,
      tls: { ca: readFileSync(certFile, "utf8") },
    });
    expect(big.status).toBe(413);
    const answer = await new Promise<string>((resolve, reject) => {
      let got = "";
      const sock = tlsConnect({ host: "127.0.0.1", port: page.port, ca: readFileSync(certFile, "utf8") }, () => {
        sock.write(
          `POST /auth/callback/${c.session} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 132\r\n\r\n0x12`,
        );
      });
      sock.on("data", (d) => {
        got += d.toString();
        if (got.includes("\r\n\r\n")) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on("close", () => resolve(got));
      sock.on("error", reject);
    });
    expect(answer).toStartWith("HTTP/1.1 408");
    expect(existsSync(join(root, "run/libpam-web3/pending", `${c.session}.sig`))).toBe(false);
  });

  test("the certificate is regenerated when the signing host changes, kept otherwise", async () => {
    const before = readFileSync(certFile, "utf8");
    await page.stop();
    page = await startSigningPage(blockhostBinary(), root);
    expect(readFileSync(certFile, "utf8")).toBe(before);
    await page.stop();
    writeFileSync(join(root, "run/libpam-web3/signing_host"), "vm7.example.test\n");
    page = await startSigningPage(blockhostBinary(), root);
    const cert = new X509Certificate(readFileSync(certFile));
    expect(cert.subjectAltName).toContain("DNS:vm7.example.test");
    expect(page.stderr()).toContain("signing-page.certificate");
    const res = await fetch(`https://127.0.0.1:${page.port}/`, {
      tls: { ca: readFileSync(certFile, "utf8"), servername: "vm7.example.test" },
    });
    expect(res.status).toBe(200);
  });

  test("without a signing_host file it publishes the override host, and PAM's URL and the certificate agree", async () => {
    const fresh = tempDir("blockhost-signing-override-");
    try {
      writeVmRoot(fresh.dir, { passwd });
      mkdirSync(join(fresh.dir, "etc/blockhost"), { recursive: true });
      writeFileSync(join(fresh.dir, "etc/blockhost/host-address"), "vm9.example.org\n");
      const p = await startSigningPage(blockhostBinary(), fresh.dir);
      try {
        expect(readFileSync(join(fresh.dir, "run/libpam-web3/signing_host"), "utf8").trim()).toBe("vm9.example.org");
        expect(
          new X509Certificate(readFileSync(join(fresh.dir, "etc/libpam-web3/tls/cert.pem"))).subjectAltName,
        ).toContain("DNS:vm9.example.org");
        const r = await runBlockhost(["pam", "challenge"], { root: fresh.dir, env: { PAM_USER: "alice" } });
        expect(parseChallenge(r.stdout).url).toStartWith("https://vm9.example.org:63108/?session=");
      } finally {
        await p.stop();
      }
    } finally {
      fresh.cleanup();
    }
  });

  test("use_tls = false serves plain HTTP (onion mode)", async () => {
    const plain = tempDir("blockhost-signing-plain-");
    try {
      writeVmRoot(plain.dir, { passwd, useTls: false, signingHost: "127.0.0.1" });
      const p = await startSigningPage(blockhostBinary(), plain.dir);
      try {
        const res = await fetch(`http://127.0.0.1:${p.port}/`);
        expect(res.status).toBe(200);
        expect(existsSync(join(plain.dir, "etc/libpam-web3/tls/cert.pem"))).toBe(false);
      } finally {
        await p.stop();
      }
    } finally {
      plain.cleanup();
    }
  });
});
