/** Agent action: install serve's certificate and key under /etc/blockhost/tls (ACME issues and renewals). */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { chmodSync, chownSync } from "node:fs";
import { BlockhostError } from "../../core/errors.ts";
import { blockhostGid, ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import type { TlsFiles } from "../../core/self-signed-cert.ts";
import { object, str } from "../../core/schema.ts";
import { defineAction } from "./types.ts";

const PEM_CERTS_RE = /^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]{1,16384}-----END CERTIFICATE-----\s*){1,4}$/;
const PEM_KEY_RE =
  /^-----BEGIN (EC |RSA )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]{1,8192}-----END (EC |RSA )?PRIVATE KEY-----\s*$/;

/** serve's TLS files: the certificate chain (0644) and its key (0640 root:blockhost). */
export function serveTlsFiles(): TlsFiles {
  return { cert: paths.tlsCert, key: paths.tlsKey };
}

/**
 * serve's TLS dir, root:blockhost 0750: serve (user blockhost) must reach the files, so the group
 * and mode are set here, not left to the agent's umask.
 */
export function ensureServeTlsDir(): void {
  ensureDirUnder(paths.root, paths.tlsDir, 0o750);
  if (process.getuid?.() === 0) chownSync(paths.tlsDir, 0, blockhostGid() ?? 0);
  chmodSync(paths.tlsDir, 0o750);
}

/**
 * Replace serve's certificate and key. Refused unless the chain parses, the key is the leaf's and
 * the leaf is currently valid, so a bad renewal never replaces a working certificate.
 */
export const tlsInstall = defineAction({
  name: "tls-install",
  params: object({
    cert: str(PEM_CERTS_RE, "a PEM certificate chain (1-4 certificates)", 65_536),
    key: str(PEM_KEY_RE, "a PEM private key", 16_384),
  }),
  timeoutMs: 30_000,
  handler: async (p) => {
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(p.cert);
      if (!leaf.checkPrivateKey(createPrivateKey(p.key))) throw new BlockhostError("E_INVALID_INPUT", "mismatch");
    } catch {
      throw new BlockhostError(
        "E_INVALID_INPUT",
        "tls-install: the key does not belong to the certificate (or either does not parse)",
      );
    }
    const now = Date.now();
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) <= now) {
      throw new BlockhostError(
        "E_INVALID_INPUT",
        `tls-install: the certificate is not valid now (${leaf.validFrom} .. ${leaf.validTo})`,
      );
    }
    const files = serveTlsFiles();
    ensureServeTlsDir();
    // serve swaps its listener only when told, after both files are in place.
    writeFileAtomic(files.key, p.key, { mode: 0o640, blockhostGroup: true });
    writeFileAtomic(files.cert, p.cert, { mode: 0o644, blockhostGroup: true });
    return { cert_file: files.cert, key_file: files.key, not_after: new Date(leaf.validTo).toISOString() };
  },
});
