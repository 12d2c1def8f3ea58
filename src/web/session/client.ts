/** Who a request comes from, as the web surfaces count it (rate limits, pending sign-ins). */
import type { Context } from "hono";
import { getConnInfo } from "hono/bun";

/** The peer address of a request; "local" when it did not come through a socket (app.request in tests). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? "local";
  } catch {
    return "local";
  }
}

/**
 * The unit a limit is counted in: the IPv4 address, or the /64 of an IPv6 address (one customer
 * line gets a whole /64, so counting single IPv6 addresses would give an attacker 2^64 budgets).
 */
export function clientKey(c: Context): string {
  return addressKey(clientAddress(c));
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
