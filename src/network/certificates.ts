/** serve's certificate policy: keep, obtain or renew over ACME, or fall back to self-signed with the reason. */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { DAY_MS } from "../core/clock.ts";
import type { Database } from "bun:sqlite";
import { oneLine } from "../core/errors.ts";
import { bool, object, str } from "../core/schema.ts";
import { getMeta, setMeta } from "../core/state/meta.ts";
import { type AcmeRequest, type IssuedCertificate, obtainCertificate } from "./acme.ts";

/** Renew when less than this is left (Let's Encrypt certificates last 90 days; it suggests 30). */
export const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface TlsFiles {
  readonly cert_file: string;
  readonly key_file: string;
}

/** What `blockhost status` shows about serve's certificate. */
export interface CertificateStatus {
  readonly hostname: string;
  readonly self_signed: boolean;
  /** Why the certificate is self-signed, or why the last renewal failed; null when all is well. */
  readonly reason: string | null;
  readonly not_after: string | null;
  readonly checked_at: string;
}

export interface CertificatePlan {
  readonly hostname: string;
  /** The ACME order's settings; absent when the host has no public name (then: self-signed, saying so). */
  readonly acme?: Omit<AcmeRequest, "hostname">;
  /** The certificate serve uses now, and whether it came from ACME. */
  readonly current: (TlsFiles & { readonly acme: boolean }) | null;
  /** Store an issued certificate (the agent's tls-install) and return where it is. */
  install(issued: IssuedCertificate): Promise<TlsFiles>;
  /** Make (or keep) a self-signed certificate for the hostname and return where it is. */
  selfSigned(): TlsFiles | Promise<TlsFiles>;
  readonly now?: Date;
  readonly renewBeforeMs?: number;
  /** Injected for tests of the policy alone; the real one talks to the ACME server. */
  readonly obtain?: (r: AcmeRequest) => Promise<IssuedCertificate>;
}

export interface CertificateOutcome {
  readonly files: TlsFiles;
  /** True when serve must swap its listener to `files`. */
  readonly changed: boolean;
  readonly status: CertificateStatus;
}

function leafOf(file: string): X509Certificate | null {
  try {
    return existsSync(file) ? new X509Certificate(readFileSync(file)) : null;
  } catch {
    return null;
  }
}

/**
 * Decide and act: an ACME certificate for the hostname with more than renewBeforeMs left is kept;
 * otherwise a new one is ordered and installed. When ACME fails, a still-valid ACME certificate is
 * kept (the reason is reported) and anything else falls back to self-signed, with the reason.
 */
export async function ensureServeCertificate(plan: CertificatePlan): Promise<CertificateOutcome> {
  const now = plan.now ?? new Date();
  const status = (self_signed: boolean, reason: string | null, leaf: X509Certificate | null): CertificateStatus => ({
    hostname: plan.hostname,
    self_signed,
    reason,
    not_after: leaf ? new Date(leaf.validTo).toISOString() : null,
    checked_at: now.toISOString(),
  });
  const cur = plan.current;
  const leaf = cur?.acme ? leafOf(cur.cert_file) : null;
  const covers = leaf?.checkHost(plan.hostname) !== undefined;
  const left = leaf ? Date.parse(leaf.validTo) - now.getTime() : 0;
  if (cur && leaf && covers && left > (plan.renewBeforeMs ?? RENEW_BEFORE_MS)) {
    return { files: cur, changed: false, status: status(false, null, leaf) };
  }
  let reason: string;
  if (plan.acme) {
    try {
      const issued = await (plan.obtain ?? obtainCertificate)({ ...plan.acme, hostname: plan.hostname });
      const files = await plan.install(issued);
      return { files, changed: true, status: status(false, null, leafOf(files.cert_file)) };
    } catch (e) {
      reason = `ACME failed: ${oneLine(e)}`;
    }
  } else {
    reason = "no public host name for ACME (configure a domain, or get an IPv6 prefix for an sslip.io name)";
  }
  if (cur && leaf && covers && left > 0)
    return { files: cur, changed: false, status: status(false, `renewal pending: ${reason}`, leaf) };
  const files = await plan.selfSigned();
  const unchanged = cur !== null && !cur.acme && cur.cert_file === files.cert_file;
  return { files, changed: !unchanged, status: status(true, reason, leafOf(files.cert_file)) };
}

/** An sslip.io name for a public address: 2001:db8::2 → 2001-db8--2.sslip.io, 203.0.113.5 → 203-0-113-5.sslip.io. */
export function sslipName(address: string): string {
  return `${address.replace(/[:.]/g, "-")}.sslip.io`;
}

const STATUS_KEY = "serve.certificate";
const nullable = (inner: ReturnType<typeof str>) => ({
  describe: `${inner.describe} or null`,
  parse: (v: unknown, p = "") => (v === null ? null : inner.parse(v, p)),
});
const statusSchema = object({
  hostname: str(/^[^\0\n]{1,253}$/, "a host name", 253),
  self_signed: bool,
  reason: nullable(str(/^[^\0\n]{1,2000}$/, "one line", 2000)),
  not_after: nullable(str(/^[0-9T:.Z-]{20,30}$/, "an ISO time", 30)),
  checked_at: str(/^[0-9T:.Z-]{20,30}$/, "an ISO time", 30),
});

/** Keep the outcome for `blockhost status`. */
export function recordCertificateStatus(db: Database, s: CertificateStatus): void {
  setMeta(db, STATUS_KEY, JSON.stringify(s));
}

/** The last recorded outcome, or null (serve has not checked yet, or the record is unreadable). */
export function readCertificateStatus(db: Database): CertificateStatus | null {
  const text = getMeta(db, STATUS_KEY);
  if (!text) return null;
  try {
    return statusSchema.parse(JSON.parse(text), STATUS_KEY);
  } catch {
    return null;
  }
}

/** One status line: where the certificate came from, until when, and why not ACME. */
export function formatCertificateStatus(s: CertificateStatus | null): string {
  if (!s) return "https:    no certificate check recorded (serve not started)";
  const until = s.not_after ? `, valid until ${s.not_after}` : "";
  if (s.self_signed) return `https:    ${s.hostname}: SELF-SIGNED${until}; ${s.reason ?? "no reason recorded"}`;
  return `https:    ${s.hostname}: ACME${until}${s.reason ? `; ${s.reason}` : ""}`;
}
