/** IPv6 text to and from 128-bit integers. */
import { isIPv6 } from "node:net";
import { BlockhostError } from "./errors.ts";

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

/** Parse "2001:db8::/120" into its network integer and prefix length (host bits must be zero). */
export function parseIpv6Prefix(prefix: string): { network: bigint; bits: number } {
  const [addr, len] = prefix.split("/");
  const bits = Number(len);
  if (!addr || !Number.isInteger(bits) || bits < 48 || bits > 127 || !isIPv6(addr)) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `IPv6 prefix ${JSON.stringify(prefix)}: expected an address/length with length 48..127`,
    );
  }
  const network = ipv6ToBigInt(addr);
  if ((network & ((1n << BigInt(128 - bits)) - 1n)) !== 0n)
    throw new BlockhostError("E_CONFIG_INVALID", `IPv6 prefix ${prefix}: host bits must be zero`);
  return { network, bits };
}
