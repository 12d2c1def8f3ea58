/** Agent actions: a VM's /128 route and the isolation of its bridge port. */
import { literal, object, type Schema, str, union } from "../../core/schema.ts";
import { TAP_DEV_RE, ipv6Host128 } from "../../core/validators.ts";
import { unlessCommandSays } from "../run.ts";
import { PORT_RE } from "../port-guard/rules.ts";
import { defineAction } from "./types.ts";

/** Routing and bridge actions: a VM's /128 route and L2 isolation of its bridge port. */

/** Bridges a VM route may point at (the original's ALLOWED_ROUTE_DEVS). */
export const ROUTE_BRIDGES = ["vmbr0", "virbr0", "br0", "br-ext", "docker0", "bhbr0"] as const;

const tapDev = str(TAP_DEV_RE, "a Proxmox tap device like tap100i0", 15);
/** A libvirt VM's host-side interface: BlockHost names it (`bhv…`); domains defined earlier have vnetN. */
const vmPortDev = union(
  "a VM port device (tapNNNiN, fwprNNNpN, bhv… or vnetN)",
  tapDev,
  str(/^fwpr\d{3,6}p\d{1,2}$/, "a Proxmox firewall bridge port like fwpr100p0", 15),
  str(PORT_RE, "a BlockHost VM port", 15),
  str(/^vnet\d{1,5}$/, "a libvirt vnet device", 10),
);
/** A Proxmox bridge (vmbrN): a cluster node's own segment has its own; the scope admits only configured ones. */
const pveBridge = str(/^vmbr\d{1,4}$/, "a Proxmox bridge like vmbr1", 8);
const routeDev = union(
  `one of ${ROUTE_BRIDGES.join(", ")}, a Proxmox bridge vmbrN or a tap device`,
  literal(...ROUTE_BRIDGES),
  pveBridge,
  tapDev,
);
const routeParams = object({ address: ipv6Host128, dev: routeDev });

/**
 * An add/del pair over `ip -6 OBJECT replace|del ARGS…`: add is idempotent (`replace`); del of
 * something already gone (ip says `gone`) is `{removed: false}`, so a retried teardown succeeds.
 */
export function ip6AddDel<
  P extends { address: string; dev: string },
  const A extends string,
  const D extends string,
>(o: {
  add: A;
  del: D;
  object: "addr" | "route" | "neigh";
  params: Schema<P>;
  args: (p: P) => string[];
  gone: RegExp;
}) {
  const add = defineAction({
    name: o.add,
    params: o.params,
    timeoutMs: 30_000,
    handler: async (p, ctx) => {
      await ctx.run("ip", ["-6", o.object, "replace", ...o.args(p)]);
      return { address: p.address, dev: p.dev };
    },
  });
  const del = defineAction({
    name: o.del,
    params: o.params,
    timeoutMs: 30_000,
    handler: (p, ctx) =>
      unlessCommandSays(o.gone, { removed: false }, async () => {
        await ctx.run("ip", ["-6", o.object, "del", ...o.args(p)]);
        return { removed: true };
      }),
  });
  return [add, del] as const;
}

/** `ip -6 route replace|del ADDR/128 dev DEV`: a VM's host route. */
export const [ip6RouteAdd, ip6RouteDel] = ip6AddDel({
  add: "ip6-route-add",
  del: "ip6-route-del",
  object: "route",
  params: routeParams,
  args: (p) => [p.address, "dev", p.dev],
  gone: /No such process/,
});

/** `bridge link set dev DEV isolated on`: isolated ports cannot talk to each other, only to the uplink. */
export const bridgePortIsolate = defineAction({
  name: "bridge-port-isolate",
  params: object({ dev: vmPortDev }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    await ctx.run("bridge", ["link", "set", "dev", p.dev, "isolated", "on"]);
    return { dev: p.dev, isolated: true };
  },
});
