/** The signing page's TLS certificate: find it, or make one that covers the host. */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { paths } from "../../core/paths.ts";
import { ensureSelfSigned, runLocalOpenssl, type TlsFiles } from "../../core/self-signed-cert.ts";
import { isValidHost } from "../signing-host.ts";

export function tlsFiles(): TlsFiles {
  return { cert: join(paths.pamTlsDir, "cert.pem"), key: join(paths.pamTlsDir, "key.pem") };
}

/**
 * Make sure there is a certificate for `host` (the signing page's by default), also naming this machine's
 * host name when it is a valid one; the key is root's alone. Returns true when it generated one.
 */
export async function ensureCertificate(host: string, files: TlsFiles = tlsFiles()): Promise<boolean> {
  mkdirSync(dirname(files.key), { recursive: true, mode: 0o700 });
  const names: [string, ...string[]] = [host, ...[hostname()].filter(isValidHost)];
  return ensureSelfSigned(files, { names, keyMode: 0o600, run: runLocalOpenssl });
}
