/**
 * IPv6 maths and the one rule for a routed prefix (manual, broker-given or db.yaml's legacy copy):
 * setup, the broker, the agent, prefix-host and network-config all check a prefix here.
 */
import { isIPv6 } from "node:net";
import { BlockhostError, type ErrorCode } from "./errors.ts";

/** IPv6 text → 128-bit integer (accepts any valid form, including embedded IPv4). */
export function ipv6ToBigInt(addr: string): bigint {
  if (!isIPv6(addr)) throw new BlockhostError("E_INVALID_INPUT", `not an IPv6 address: ${addr}`);
  let text = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split(".").map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? (text.split("::") as [string, string]) : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** 128-bit integer → canonical compressed IPv6 text (RFC 5952). */
export function bigIntToIpv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1,
    bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** A routed prefix is /48 (the widest a site gets) to /120 (::1 bridge, ::2 host, VMs from ::3). */
export const PREFIX_MIN_BITS = 48;
export const PREFIX_MAX_BITS = 120;

/** A parsed routed prefix: its network integer, length and canonical `network/bits` text. */
export interface Ipv6Prefix {
  readonly network: bigint;
  readonly bits: number;
  readonly prefix: string;
}

/** Why `text` is not a routed prefix (`2001:db8:1::/64`: /48–/120, host bits zero), or null. */
export function ipv6PrefixProblem(text: string): string | null {
  const m = /^([0-9a-fA-F:.]{2,45})\/(\d{1,3})$/.exec(text.trim());
  if (!m || !isIPv6(m[1]!))
    return `IPv6 prefix ${JSON.stringify(text)}: expected an address/length like 2001:db8:1::/64`;
  const bits = Number(m[2]);
  if (bits < PREFIX_MIN_BITS || bits > PREFIX_MAX_BITS)
    return `IPv6 prefix ${text}: length must be /${PREFIX_MIN_BITS} to /${PREFIX_MAX_BITS} (got /${bits})`;
  const network = ipv6ToBigInt(m[1]!);
  const hostMask = (1n << BigInt(128 - bits)) - 1n;
  if ((network & hostMask) !== 0n)
    return `IPv6 prefix ${text}: host bits must be zero (did you mean ${bigIntToIpv6(network & ~hostMask)}/${bits}?)`;
  return null;
}

/** Parse a routed prefix, or throw `code` (E_INVALID_INPUT for input, E_CONFIG_INVALID for a stored file). */
export function parseIpv6Prefix(text: string, code: ErrorCode = "E_INVALID_INPUT"): Ipv6Prefix {
  const problem = ipv6PrefixProblem(text);
  if (problem) throw new BlockhostError(code, problem);
  const [addr, len] = text.trim().split("/") as [string, string];
  const network = ipv6ToBigInt(addr);
  const bits = Number(len);
  return { network, bits, prefix: `${bigIntToIpv6(network)}/${bits}` };
}

/** Whether `address` lies inside `prefix` (any length; false for text that is not IPv6). */
export function ipv6InPrefix(address: string, prefix: string): boolean {
  const [net, bits] = prefix.split("/") as [string, string];
  const shift = BigInt(128 - Number(bits));
  if (!isIPv6(address) || !isIPv6(net) || !(shift >= 0n && shift <= 128n)) return false;
  return ipv6ToBigInt(address) >> shift === ipv6ToBigInt(net) >> shift;
}
