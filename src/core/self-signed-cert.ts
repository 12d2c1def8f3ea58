/** Self-signed TLS certificates, one implementation for serve's (made by the agent) and the signing page's. */
import { X509Certificate } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, join } from "node:path";
import { BlockhostError } from "./errors.ts";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** Runs openssl with `argv` (no shell); throws a BlockhostError when it fails. */
export type RunOpenssl = (argv: readonly string[]) => Promise<void>;

export interface SelfSignedOptions {
  /** The names the certificate covers; the first is its subject CN and the one checked when keeping a certificate. */
  readonly names: readonly [string, ...string[]];
  /** The key's mode, and its group when a non-root service reads it (serve, as the blockhost group). */
  readonly keyMode: number;
  readonly keyGid?: number;
  /** Validity in days (default 3650). */
  readonly days?: number;
  readonly run: RunOpenssl;
}

const sanEntry = (name: string) => (isIP(name) ? `IP:${name}` : `DNS:${name}`);

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
 * Keep the certificate in `files` when it is current and names `names[0]`; otherwise make a self-signed P-256
 * certificate (10 years unless told) in a private temp dir beside the key, set its modes, and rename both into place.
 * The directory must exist, with the owner and mode its readers need. Returns true when it made one.
 */
export async function ensureSelfSigned(files: TlsFiles, opts: SelfSignedOptions): Promise<boolean> {
  const [host] = opts.names;
  if (existsSync(files.key) && certificateCovers(files.cert, host)) return false;
  const work = mkdtempSync(join(dirname(files.key), ".new-"));
  const key = join(work, "key.pem");
  const cert = join(work, "cert.pem");
  try {
    await opts.run([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      String(opts.days ?? 3650),
      "-subj",
      `/CN=${host}`,
      "-addext",
      `subjectAltName=${[...new Set(opts.names)].map(sanEntry).join(",")}`,
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    if (opts.keyGid !== undefined && process.getuid?.() === 0) chownSync(key, 0, opts.keyGid);
    chmodSync(key, opts.keyMode);
    chmodSync(cert, 0o644);
    renameSync(key, files.key);
    renameSync(cert, files.cert);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return true;
}

/** openssl run by the calling process itself (the signing page, `blockhost dev`): empty environment, 30 s. */
export const runLocalOpenssl: RunOpenssl = async (argv) => {
  const openssl = ["/usr/bin/openssl", "/bin/openssl"].find((p) => existsSync(p));
  if (!openssl)
    throw new BlockhostError("E_CONFIG_MISSING", "openssl is not installed (needed for a self-signed certificate)");
  const proc = Bun.spawn([openssl, ...argv], { stdout: "ignore", stderr: "pipe", env: {}, timeout: 30_000 });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0)
    throw new BlockhostError("E_COMMAND_FAILED", `openssl failed: ${stderr.trim().split("\n")[0] || `exit ${code}`}`);
};
