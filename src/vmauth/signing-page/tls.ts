/** The signing page's TLS certificate: find it, or make one that covers the host. */
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { isValidHost } from "../signing-host.ts";

export interface TlsFiles {
  cert: string;
  key: string;
}

export function tlsFiles(): TlsFiles {
  return { cert: join(paths.pamTlsDir, "cert.pem"), key: join(paths.pamTlsDir, "key.pem") };
}

const sanEntry = (host: string) => (isIP(host) ? `IP:${host}` : `DNS:${host}`);

/** Whether the certificate at `certFile` is unexpired and names `host` in its SAN. */
export function certificateCovers(certFile: string, host: string, now = new Date()): boolean {
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    if (new Date(cert.validTo) <= now) return false;
    const names = (cert.subjectAltName ?? "").split(/,\s*/);
    const wanted = isIP(host) ? `IP Address:${host}` : `DNS:${host.toLowerCase()}`;
    return names.some((n) => n.toLowerCase() === wanted.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * Make sure there is a certificate for `host` (the signing page's by default): keep the current one
 * when its SAN names the host, otherwise generate a self-signed P-256 certificate (10 years) with
 * `openssl`, written to a private temp dir and renamed into place. Returns true when it generated one.
 */
export function ensureCertificate(host: string, files: TlsFiles = tlsFiles()): boolean {
  if (existsSync(files.key) && certificateCovers(files.cert, host)) return false;
  const openssl = ["/usr/bin/openssl", "/bin/openssl"].find((p) => existsSync(p));
  if (!openssl)
    throw new BlockhostError("E_CONFIG_MISSING", "openssl is not installed (needed for a self-signed certificate)");
  const dir = dirname(files.key);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names = [...new Set([host, hostname()].filter(isValidHost))];
  const work = mkdtempSync(join(dir, ".new-"));
  try {
    const r = Bun.spawnSync(
      [
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        `/CN=${host}`,
        "-addext",
        `subjectAltName=${names.map(sanEntry).join(",")}`,
        "-keyout",
        join(work, "key.pem"),
        "-out",
        join(work, "cert.pem"),
      ],
      { stdout: "ignore", stderr: "pipe", timeout: 30_000, env: {} },
    );
    if (r.exitCode !== 0)
      throw new BlockhostError("E_COMMAND_FAILED", `openssl failed: ${r.stderr.toString().trim().split("\n")[0]}`);
    chmodSync(join(work, "key.pem"), 0o600);
    chmodSync(join(work, "cert.pem"), 0o644);
    renameSync(join(work, "key.pem"), files.key);
    renameSync(join(work, "cert.pem"), files.cert);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return true;
}
