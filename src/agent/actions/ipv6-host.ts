/** Agent actions: the host side of a routed IPv6 prefix (addresses, NDP proxy, forwarding). */
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { bool, literal, object, optional } from "../../core/schema.ts";
import { ifaceName, ipv6, ipv6WithLength } from "../../core/validators.ts";
import { ip6AddDel, ROUTE_BRIDGES } from "./network.ts";
import { defineAction } from "./types.ts";

/**
 * Where the host's own prefix addresses may go: a VM bridge (::1), lo (::2, the host's public
 * address; lo needs no kernel module, unlike the original's dummy0) or the broker tunnel.
 */
export const ADDRESS_DEVS = [...ROUTE_BRIDGES, "lo", "wg-broker"] as const;

const addressParams = object({ address: ipv6WithLength, dev: literal(...ADDRESS_DEVS) });

/** `ip -6 addr replace|del ADDR/LEN dev DEV`: the host's own addresses from the prefix. */
export const [ip6AddrAdd, ip6AddrDel] = ip6AddDel({
  add: "ip6-addr-add",
  del: "ip6-addr-del",
  object: "addr",
  params: addressParams,
  args: (p) => [p.address, "dev", p.dev],
  gone: /Cannot assign requested address/,
});

/**
 * `ip -6 neigh replace|del proxy ADDR dev UPLINK`: the host answers neighbour solicitations for a
 * VM's address on the uplink, for upstream routers that treat the whole prefix as on-link.
 */
export const [ndpProxyAdd, ndpProxyDel] = ip6AddDel({
  add: "ndp-proxy-add",
  del: "ndp-proxy-del",
  object: "neigh",
  params: object({ address: ipv6, dev: ifaceName }),
  args: (p) => ["proxy", p.address, "dev", p.dev],
  gone: /No such file or directory/,
});

/**
 * The sysctl.d file enabling IPv6 forwarding, from a fixed template. With forwarding on, Linux
 * ignores router advertisements unless accept_ra=2, so the uplink keeps its RA-learned default route.
 */
export function ipv6SysctlText(uplink?: string, ndpProxy = false): string {
  const lines = [
    "# Written by blockhost: VMs' IPv6 /128s are routed through this host.",
    "net.ipv6.conf.all.forwarding = 1",
  ];
  // Slash form: an interface name may contain dots (VLANs), which the dotted form would split.
  if (uplink) lines.push(`net/ipv6/conf/${uplink}/accept_ra = 2`);
  if (uplink && ndpProxy) lines.push(`net/ipv6/conf/${uplink}/proxy_ndp = 1`);
  return `${lines.join("\n")}\n`;
}

/** Write /etc/sysctl.d/99-blockhost-ipv6.conf (0644) and apply it now with `sysctl -p`. */
export const ipv6ForwardingPersist = defineAction({
  name: "ipv6-forwarding-persist",
  params: object({ uplink: optional(ifaceName), ndpProxy: optional(bool) }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const uplink = p.uplink;
    // Refuse an uplink that does not exist before writing: sysctl -p would fail at every boot.
    if (uplink) await ctx.run("ip", ["link", "show", "dev", uplink]);
    const file = paths.ipv6Sysctl;
    ensureDirUnder(paths.root, file.slice(0, file.lastIndexOf("/")));
    writeFileAtomic(file, ipv6SysctlText(uplink, p.ndpProxy === true), { mode: 0o644 });
    await ctx.run("sysctl", ["-p", file]);
    return { file };
  },
});
