/** serve's certificate from https.json: ordered and renewed over ACME when `acme` is set, else used as it is. */
import type { Database } from "bun:sqlite";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { AgentClient } from "../../agent/client.ts";
import { DAY_MS } from "../../core/clock.ts";
import type { HttpsConfig } from "../../core/config/index.ts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { type CertificateKeeper, keepCertificate } from "../../network/cert-keeper.ts";
import { type CertificatePlan, recordCertificateStatus, sslipName, type TlsFiles } from "../../network/certificates.ts";
import { readBrokerAllocation } from "../../core/config/broker-allocation.ts";
import { parseHostPrefix } from "../../network/prefix-host.ts";
import { ipv6ToBigInt } from "../../core/ipv6.ts";
import { ensureCertificate } from "../../vmauth/signing-page/tls.ts";

type Agent = Pick<AgentClient, "call">;

/**
 * The name the ACME certificate is for: acme.domain; else a DNS host name; else, with a broker
 * allocation that has a DNS zone, the broker's name for the host's `prefix::2` (`<low 64 bits in
 * hex>.<zone>`, which the broker's DNS answers); else the sslip.io name of the address.
 */
export function acmeName(
  https: HttpsConfig,
  broker: { prefix: string; dns_zone?: string | undefined } | null = readBrokerAllocation(),
): string {
  if (https.acme?.domain) return https.acme.domain;
  const host = https.hostname.replace(/^\[|\]$/g, "");
  if (!isIP(host)) return host;
  if (broker?.dns_zone) {
    const hostAddress = ipv6ToBigInt(parseHostPrefix(broker.prefix).hostAddress);
    return `${(hostAddress & ((1n << 64n) - 1n)).toString(16)}.${broker.dns_zone}`;
  }
  return sslipName(host);
}

function leafOf(file: string): X509Certificate | null {
  try {
    return new X509Certificate(readFileSync(file));
  } catch {
    return null;
  }
}

/** Whether the certificate in `file` signed itself (finalize's, or serve's fallback), as opposed to a CA's. */
function selfIssued(file: string): boolean {
  const leaf = leafOf(file);
  return leaf !== null && leaf.checkIssued(leaf);
}

/** The files serve starts with, and whether they came from ACME (read from the certificate itself). */
export function startingFiles(https: HttpsConfig): TlsFiles & { acme: boolean } {
  return { cert_file: https.cert_file, key_file: https.key_file, acme: !selfIssued(https.cert_file) };
}

/**
 * The self-signed fallback: https.json's own files while they are self-signed and name `host`; else a
 * certificate serve makes in its state dir (it cannot write /etc/blockhost, and an ACME certificate
 * the agent installed there must not be overwritten by a fallback).
 */
async function selfSignedFallback(https: HttpsConfig, host: string): Promise<TlsFiles> {
  const own = leafOf(https.cert_file);
  if (own?.checkIssued(own) && own.checkHost(host) !== undefined)
    return { cert_file: https.cert_file, key_file: https.key_file };
  const dir = join(paths.stateDir, "tls-fallback");
  const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  await ensureCertificate(host, files);
  return { cert_file: files.cert, key_file: files.key };
}

/** The certificate plan for https.json's `acme` settings; certificates are stored by the agent (`tls-install`). */
export function acmePlan(https: HttpsConfig, agent: Agent): (current: CertificatePlan["current"]) => CertificatePlan {
  const acme = https.acme;
  if (!acme) throw new BlockhostError("E_CONFIG_INVALID", `${paths.httpsConfig}: acme: no ACME settings`);
  const hostname = acmeName(https);
  const caPem = acme.ca_file && existsSync(acme.ca_file) ? readFileSync(acme.ca_file, "utf8") : undefined;
  return (current) => ({
    hostname,
    acme: {
      directoryUrl: acme.directory_url,
      ...(acme.email ? { email: acme.email } : {}),
      accountKeyFile: join(paths.stateDir, "acme", "account.key"),
      challengeDir: paths.acmeChallengeDir,
      ...(caPem ? { directoryCaPem: caPem } : {}),
      selfCheck: acme.self_check,
      retry: { attempts: 2, delaySeconds: 5 },
    },
    current,
    renewBeforeMs: acme.renew_before_days * DAY_MS,
    install: async (issued) => {
      const r = await agent.call("tls-install", { cert: issued.certPem, key: issued.keyPem });
      return { cert_file: String(r.cert_file), key_file: String(r.key_file) };
    },
    selfSigned: () => selfSignedFallback(https, hostname),
  });
}

/**
 * Keep serve's certificate: with `acme`, a keeper that orders, renews and falls back (each outcome
 * recorded for `blockhost status`, `swap` called when the files change); without, the files are
 * used as they are and status says why the certificate is not from ACME.
 */
export function keepServeCertificate(
  https: HttpsConfig,
  db: Database,
  agent: Agent,
  swap: (files: TlsFiles) => void,
): CertificateKeeper | null {
  if (https.acme) return keepCertificate(db, acmePlan(https, agent), startingFiles(https), swap);
  const leaf = leafOf(https.cert_file);
  const self = selfIssued(https.cert_file);
  recordCertificateStatus(db, {
    hostname: https.hostname,
    self_signed: self,
    reason: self ? `ACME is off (${paths.httpsConfig} has no acme settings)` : null,
    not_after: leaf ? new Date(leaf.validTo).toISOString() : null,
    checked_at: new Date().toISOString(),
  });
  return null;
}
