/** serve's TLS actions through the compiled agent, under the agent unit's UMask=0077: modes serve can read. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { blockhostGid } from "../../../src/core/fs.ts";
import { ensureSelfSigned, runLocalOpenssl } from "../../../src/core/self-signed-cert.ts";
import { type RunningAgent, startAgent } from "../../helpers/agent.ts";
import { tempDir } from "../../helpers/binary.ts";

const skip = process.getuid?.() !== 0 ? "needs root (the agent chowns serve's key to root:blockhost)" : undefined;
if (skip) console.log(`skipping the agent TLS tests: ${skip}`);

describe.skipIf(!!skip)("tls-self-signed and tls-install", () => {
  let agent: RunningAgent;
  const tls = (name: string) => join(agent.root, "etc/blockhost/tls", name);
  const group = blockhostGid() ?? 0;
  /** Mode and owner of the directory, the key, and the certificate (world-readable, any group). */
  const modes = () =>
    [tls(""), tls("key.pem"), tls("cert.pem")].map((f, i) => {
      const st = statSync(f);
      return `${(st.mode & 0o777).toString(8)} ${st.uid}${i < 2 ? `:${st.gid}` : ""}`;
    });
  const SERVE_READABLE = [`750 0:${group}`, `640 0:${group}`, "644 0"];

  beforeAll(async () => {
    // The unit's umask, so the test sees what a packaged agent makes (tests otherwise run under 0022).
    const previous = process.umask(0o077);
    try {
      agent = await startAgent();
    } finally {
      process.umask(previous);
    }
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test("a self-signed P-256 certificate for the host, its directory and key readable by the blockhost group", async () => {
    const r = await agent.client.call("tls-self-signed", { hostname: "203.0.113.7" });
    expect(r).toEqual({ ok: true, cert_file: tls("cert.pem"), key_file: tls("key.pem"), generated: true });
    const cert = new X509Certificate(readFileSync(tls("cert.pem")));
    expect(cert.subjectAltName).toBe("IP Address:203.0.113.7");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(tls("key.pem"))))).toBe(true);
    expect(modes()).toEqual(SERVE_READABLE);
  });

  test("kept while it names the host; remade for another host", async () => {
    const before = readFileSync(tls("cert.pem"), "utf8");
    expect(await agent.client.call("tls-self-signed", { hostname: "203.0.113.7" })).toMatchObject({
      generated: false,
    });
    expect(readFileSync(tls("cert.pem"), "utf8")).toBe(before);
    expect(await agent.client.call("tls-self-signed", { hostname: "vms.example.test" })).toMatchObject({
      generated: true,
    });
    expect(new X509Certificate(readFileSync(tls("cert.pem"))).subjectAltName).toBe("DNS:vms.example.test");
    expect(modes()).toEqual(SERVE_READABLE);
  });

  test("tls-install replaces them with an issued pair, same modes; a key that is not the certificate's is refused", async () => {
    const made = tempDir("blockhost-tls-");
    try {
      const pair = (sub: string) => {
        mkdirSync(join(made.dir, sub));
        return { cert: join(made.dir, sub, "cert.pem"), key: join(made.dir, sub, "key.pem") };
      };
      const a = pair("a");
      const b = pair("b");
      for (const files of [a, b])
        expect(
          await ensureSelfSigned(files, { names: ["vms.example.test"], keyMode: 0o600, run: runLocalOpenssl }),
        ).toBe(true);
      const cert = readFileSync(a.cert, "utf8");
      await expect(agent.client.call("tls-install", { cert, key: readFileSync(b.key, "utf8") })).rejects.toMatchObject({
        code: "E_INVALID_INPUT",
      });
      await agent.client.call("tls-install", { cert, key: readFileSync(a.key, "utf8") });
      expect(readFileSync(tls("cert.pem"), "utf8")).toBe(cert);
      expect(modes()).toEqual(SERVE_READABLE);
    } finally {
      made.cleanup();
    }
  });
});
