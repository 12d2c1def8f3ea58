/** serve's TLS material (https.json) and the plain-HTTP side: redirect to HTTPS, ACME HTTP-01 tokens. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import { loadHttpsConfig, type HttpsConfig } from "../../core/config/index.ts";
import { paths } from "../../core/paths.ts";
import { ensureCertificate } from "../../vmauth/signing-page/tls.ts";

const ACME_TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;

/** https.json as finalize writes it; a missing file is a config error naming it. */
export function loadHttps(): HttpsConfig {
  return loadHttpsConfig();
}

/**
 * For `blockhost dev` and tests, where finalize has not run: a self-signed certificate for
 * `host` under the config dir and an https.json naming it (kept when one exists).
 */
export async function ensureSelfSignedHttps(host: string): Promise<HttpsConfig> {
  if (existsSync(paths.httpsConfig)) return loadHttps();
  const files = { cert: paths.tlsCert, key: paths.tlsKey };
  await ensureCertificate(host, files);
  const cfg: HttpsConfig = { hostname: host, cert_file: files.cert, key_file: files.key, self_signed: true };
  mkdirSync(paths.configDir, { recursive: true });
  writeFileSync(paths.httpsConfig, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o644 });
  return cfg;
}

/** Port 80: ACME challenge files from the state dir; everything else redirects to the HTTPS origin. */
export function redirectApp(origin: string): Hono {
  const app = new Hono();
  app.get("/.well-known/acme-challenge/:token", async (c) => {
    const token = c.req.param("token");
    const file = Bun.file(join(paths.acmeChallengeDir, token));
    if (!ACME_TOKEN_RE.test(token) || !(await file.exists())) return c.text("not found", 404);
    return c.body(await file.text(), 200, { "Content-Type": "text/plain" });
  });
  app.all("*", (c) => {
    const url = new URL(c.req.url);
    return c.redirect(`${origin}${url.pathname}${url.search}`, 301);
  });
  return app;
}

/** The HTTPS origin customers reach: the certificate's host name, with the port unless it is 443. */
export function httpsOrigin(host: string, port: number): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return port === 443 ? `https://${h}` : `https://${h}:${port}`;
}
