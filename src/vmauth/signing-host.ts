import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { isIP } from "node:net";
import { paths } from "../core/paths.ts";

/** A DNS name or an IP address, nothing that could break out of a URL's host part. */
const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;

export function isValidHost(host: string): boolean {
  return HOST_RE.test(host) || isIP(host) !== 0;
}

function fqdn(): string | null {
  for (const bin of ["/usr/bin/hostname", "/bin/hostname"]) {
    if (!existsSync(bin)) continue;
    const r = Bun.spawnSync([bin, "-f"], { stdout: "pipe", stderr: "ignore", timeout: 2000, env: {} });
    const name = r.exitCode === 0 ? r.stdout.toString().trim() : "";
    return name.includes(".") && isValidHost(name) ? name : null;
  }
  return null;
}

/**
 * The host name the customer's browser should use for the signing page: the resolver's file
 * `/run/libpam-web3/signing_host` (written at boot or by cloud-init), else the FQDN, else the
 * short host name. Invalid content in the file is ignored rather than shown in a URL.
 */
export function signingHost(): string {
  try {
    const host = readFileSync(paths.signingHostFile, "utf8").trim();
    if (isValidHost(host)) return host;
  } catch { /* no resolver output: fall back */ }
  return fqdn() ?? hostname();
}

/** `https://host:port/?session=id` (http when TLS is off, e.g. onion mode; IPv6 bracketed). */
export function signingUrl(host: string, port: number, useTls: boolean, sessionId?: string): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return `${useTls ? "https" : "http"}://${h}:${port}/${sessionId ? `?session=${sessionId}` : ""}`;
}
