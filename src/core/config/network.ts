/** The IPv4/IPv6 address pools from db.yaml. */
import { existsSync, readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { loadConfigFile } from "./load.ts";
import type { DbConfig } from "./schemas.ts";
import { BlockhostError } from "../errors.ts";
import { paths } from "../paths.ts";
import { object, optional, str } from "../schema.ts";
import { hostMask, intToIpv4, ipv4ToInt, ipv6Prefix } from "../validators.ts";
import { bigIntToIpv6, parseIpv6Prefix } from "../ipv6.ts";

/** The IPv4 pool as integers: candidate host range plus what must never be handed out. */
export interface Ipv4Pool {
  first: number;
  last: number;
  bits: number;
  gateway: string;
  reserved: Set<number>;
}
export interface Ipv6Pool {
  network: bigint;
  bits: number;
  first: bigint;
  last: bigint;
  gateway: string;
}

/**
 * ip_pool for any prefix length: start/end are host numbers counted from the network address
 * (200 in a /24 is .200, the original's form) or full addresses inside the network.
 */
export function ipv4Pool(cfg: DbConfig): Ipv4Pool {
  return ipv4PoolFrom(cfg.ip_pool, `${paths.dbConfig}: ip_pool`);
}

/** A pool's bounds as integers; `where` names the file and key in errors. */
export function ipv4PoolFrom(pool: Omit<DbConfig["ip_pool"], "nameservers">, where: string): Ipv4Pool {
  const [net, len] = pool.network.split("/") as [string, string];
  const bits = Number(len);
  const base = ipv4ToInt(net);
  const broadcast = base + hostMask(bits);
  const bound = (v: number | string, key: string) => {
    const n = typeof v === "number" ? base + v : ipv4ToInt(v);
    if (n <= base || n >= broadcast)
      throw new BlockhostError(
        "E_CONFIG_INVALID",
        `${where}.${key}: ${v} is outside the usable hosts of ${pool.network}`,
      );
    return n;
  };
  const first = bound(pool.start, "start");
  const last = bound(pool.end, "end");
  if (first > last) throw new BlockhostError("E_CONFIG_INVALID", `${where}: start must not be after end`);
  return { first, last, bits, gateway: pool.gateway, reserved: new Set([base, broadcast, ipv4ToInt(pool.gateway)]) };
}

/** Whether `address` is one of the pool's hosts. */
export const poolHolds = (pool: Ipv4Pool, address: string): boolean => {
  const n = ipv4ToInt(address);
  return n >= pool.first && n <= pool.last;
};

const brokerSchema = object(
  {
    prefix: optional(ipv6Prefix),
    dns_zone: optional(str(/^[a-z0-9.-]{1,253}$/, "a DNS zone", 253)),
  },
  { extra: "ignore" },
);

/** The broker allocation's prefix and DNS zone, when the host has one. */
export function brokerAllocation(): { prefix?: string; dns_zone?: string } {
  if (!existsSync(paths.brokerAllocation)) return {};
  return loadConfigFile(paths.brokerAllocation, brokerSchema, "json");
}

/**
 * The IPv6 pool: the prefix in broker-allocation.json (broker or manual mode; db.yaml
 * ipv6_pool.prefix only on hosts set up before the manual prefix moved there).
 * ::1 is the bridge gateway and ::2 the host, so VM addresses start at ::3 at the earliest.
 */
export function ipv6Pool(cfg: DbConfig): Ipv6Pool | null {
  const prefix = brokerAllocation().prefix ?? cfg.ipv6_pool?.prefix;
  if (!prefix) return null;
  const { network, bits } = parseIpv6Prefix(prefix, "E_CONFIG_INVALID");
  const size = 1n << BigInt(128 - bits);
  const first = BigInt(Math.max(3, cfg.ipv6_pool?.start ?? 2));
  const last = BigInt(cfg.ipv6_pool?.end ?? 254) < size - 1n ? BigInt(cfg.ipv6_pool?.end ?? 254) : size - 1n;
  return { network, bits, first: network + first, last: network + last, gateway: bigIntToIpv6(network + 1n) };
}

export const ipv4Text = intToIpv4;

/** glibc reads at most three `nameserver` lines. */
const MAX_NAMESERVERS = 3;

/** The `nameserver` addresses of a resolv.conf a guest can reach: no loopback stub, no link-local scope. */
export function upstreamResolvers(resolvConf: string): string[] {
  const found: string[] = [];
  for (const line of resolvConf.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const a = m?.[1];
    if (!a || !(isIPv4(a) || isIPv6(a))) continue;
    if (a.startsWith("127.") || a === "::1" || /^fe80:/i.test(a)) continue;
    if (!found.includes(a)) found.push(a);
  }
  return found.slice(0, MAX_NAMESERVERS);
}

/** Host files that name its upstream resolvers: systemd-resolved's list first (its stub is loopback). */
export const HOST_RESOLV_FILES = ["/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"];

/**
 * The resolvers written into a VM: db.yaml ip_pool.nameservers, else the host's own upstream
 * resolvers, else the pool's gateway (for a host that resolves on its bridge address).
 */
export function guestNameservers(cfg: DbConfig, hostFiles: readonly string[] = HOST_RESOLV_FILES): string[] {
  if (cfg.ip_pool.nameservers?.length) return cfg.ip_pool.nameservers;
  for (const file of hostFiles) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const found = upstreamResolvers(text);
    if (found.length) return found;
  }
  return [cfg.ip_pool.gateway];
}
