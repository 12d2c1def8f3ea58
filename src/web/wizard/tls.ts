/** The wizard's TLS from first boot: a self-signed certificate kept under the state dir, and its SHA-256 fingerprint for the console. */
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { dirname } from "node:path";
import { paths } from "../../core/paths.ts";
import { ensureSelfSigned, runLocalOpenssl } from "../../core/self-signed-cert.ts";

export interface WizardTls {
  cert: string;
  key: string;
  /** SHA-256 of the certificate (DER), colon-separated upper-case hex: what a browser's certificate viewer shows. */
  fingerprint: string;
}

/** The host's non-loopback addresses, IPv4 first: where an operator's browser can reach the wizard. */
export function hostAddresses(ipv4Only = false): string[] {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const usable = all.filter(
    (a) => !a.internal && !(a.family === "IPv6" && (ipv4Only || a.address.toLowerCase().startsWith("fe80"))),
  );
  return [...usable.filter((a) => a.family === "IPv4"), ...usable.filter((a) => a.family === "IPv6")].map(
    (a) => a.address,
  );
}

/** The certificate the wizard serves (made once, kept across restarts so the fingerprint on the console stays valid). */
export async function wizardCertificate(names: string[] = [hostname(), ...hostAddresses()]): Promise<WizardTls> {
  const files = { cert: paths.wizardTlsCert, key: paths.wizardTlsKey };
  mkdirSync(dirname(files.key), { recursive: true, mode: 0o700 });
  const [first = "localhost", ...rest] = names;
  await ensureSelfSigned(files, { names: [first, ...rest], keyMode: 0o600, run: runLocalOpenssl });
  return {
    cert: readFileSync(files.cert, "utf8"),
    key: readFileSync(files.key, "utf8"),
    fingerprint: fingerprintOf(files.cert),
  };
}

export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
