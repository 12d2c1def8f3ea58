/** The host name the signing page URL uses. */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { hostname, networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { writeFileAtomic } from "../core/fs.ts";
import { paths } from "../core/paths.ts";

/** A DNS name or an IP address, nothing that could break out of a URL's host part. */
const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;
/** FQDNs no browser elsewhere can resolve. */
const LOCAL_ONLY_RE = /\.(localdomain|local|internal|lan|home\.arpa|localhost)\.?$/i;

/** IPv4 addresses pass HOST_RE; node:net is loaded only for a host that may be IPv6 (it slows every login's start). */
const isIPv6 = (host: string) => host.includes(":") && process.getBuiltinModule("node:net").isIP(host) === 6;

export function isValidHost(host: string): boolean {
  return HOST_RE.test(host) || isIPv6(host);
}

function readHostFile(file: string): string | null {
  try {
    const host = readFileSync(file, "utf8").trim();
    return isValidHost(host) ? host : null;
  } catch {
    return null;
  }
}

function fqdn(): string | null {
  const bin = ["/usr/bin/hostname", "/bin/hostname"].find((b) => existsSync(b));
  if (!bin) return null;
  const r = Bun.spawnSync([bin, "-f"], { stdout: "pipe", stderr: "ignore", timeout: 2000, env: {} });
  const name = r.exitCode === 0 ? r.stdout.toString().trim() : "";
  return name.includes(".") && !LOCAL_ONLY_RE.test(name) && isValidHost(name) ? name : null;
}

const isGlobalV6 = (a: string) => /^[23][0-9a-f]{0,3}:/i.test(a);
const isPrivateV4 = (a: string) =>
  /^(10\.|192\.168\.|169\.254\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(a);

/**
 * A name for the VM's own address that public DNS resolves back to it (sslip.io): a global
 * IPv6 first (BlockHost VMs behind NAT get one from the broker), then a public IPv4; a private
 * IPv4 is returned as is (reachable only from the same network).
 */
export function hostFromAddresses(ifaces: Record<string, NetworkInterfaceInfo[] | undefined>): string | null {
  const all = Object.values(ifaces)
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal);
  const v6 = all.find((i) => i.family === "IPv6" && isGlobalV6(i.address));
  if (v6) return `${v6.address.toLowerCase().replace(/:/g, "-").replace(/-$/, "-0")}.sslip.io`;
  const v4 = all.filter((i) => i.family === "IPv4");
  const pub = v4.find((i) => !isPrivateV4(i.address));
  if (pub) return `${pub.address.replace(/\./g, "-")}.sslip.io`;
  return v4[0]?.address ?? null;
}

/**
 * Work out the signing host afresh: the override `/etc/blockhost/host-address` (onion names, real
 * domains set by cloud-init), else a public FQDN, else a name for the VM's address, else the
 * host name.
 */
export function detectSigningHost(): string {
  return readHostFile(paths.hostAddressOverride) ?? fqdn() ?? hostFromAddresses(networkInterfaces()) ?? hostname();
}

/** Detect the host and record it in `/run/libpam-web3/signing_host` for PAM (the signing page does this at start). */
export function publishSigningHost(): string {
  const host = detectSigningHost();
  mkdirSync(paths.pamRunDir, { recursive: true, mode: 0o755 });
  writeFileAtomic(paths.signingHostFile, `${host}\n`, { mode: 0o644 });
  return host;
}

/**
 * The host name the customer's browser should use: `/run/libpam-web3/signing_host` (written when
 * the signing page starts, or by cloud-init), else detection (recorded there when `publish`, as
 * the signing page does at start so PAM's URL and the certificate agree).
 * Invalid content in either file is ignored rather than shown in a URL.
 */
export function signingHost(publish = false): string {
  return readHostFile(paths.signingHostFile) ?? (publish ? publishSigningHost() : detectSigningHost());
}

/** `https://host:port/?session=id` (http when TLS is off, e.g. onion mode; IPv6 bracketed). */
export function signingUrl(host: string, port: number, useTls: boolean, sessionId?: string): string {
  const h = isIPv6(host) ? `[${host}]` : host;
  return `${useTls ? "https" : "http"}://${h}:${port}/${sessionId ? `?session=${sessionId}` : ""}`;
}
