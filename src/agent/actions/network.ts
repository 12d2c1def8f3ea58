/** Agent actions: a VM's /128 route and the isolation of its bridge port. */
import { literal, object, str, union } from "../../core/schema.ts";
import { TAP_DEV_RE, ipv6Host128 } from "../../core/validators.ts";
import { unlessCommandSays } from "../run.ts";
import { defineAction } from "./types.ts";

/** Routing and bridge actions: a VM's /128 route and L2 isolation of its bridge port. */

/** Bridges a VM route may point at (the original's ALLOWED_ROUTE_DEVS). */
export const ROUTE_BRIDGES = ["vmbr0", "virbr0", "br0", "br-ext", "docker0", "bhbr0"] as const;

const tapDev = str(TAP_DEV_RE, "a Proxmox tap device like tap100i0", 15);
/** libvirt names a VM's host-side interface vnetN. */
const vmPortDev = union(
  "a VM port device (tapNNNiN or vnetN)",
  tapDev,
  str(/^vnet\d{1,5}$/, "a libvirt vnet device", 10),
);
const routeDev = union(`one of ${ROUTE_BRIDGES.join(", ")} or a tap device`, literal(...ROUTE_BRIDGES), tapDev);
const routeParams = object({ address: ipv6Host128, dev: routeDev });

/** `ip -6 route replace ADDR/128 dev DEV` (idempotent). */
export const ip6RouteAdd = defineAction({
  name: "ip6-route-add",
  params: routeParams,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    await ctx.run("ip", ["-6", "route", "replace", p.address, "dev", p.dev]);
    return { address: p.address, dev: p.dev };
  },
});

/** `ip -6 route del ADDR/128 dev DEV`; a route that is already gone is `{removed: false}`. */
export const ip6RouteDel = defineAction({
  name: "ip6-route-del",
  params: routeParams,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    return unlessCommandSays(/No such process/, { removed: false }, async () => {
      await ctx.run("ip", ["-6", "route", "del", p.address, "dev", p.dev]);
      return { removed: true };
    });
  },
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
