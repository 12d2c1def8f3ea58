/** The host side of a routed IPv6 prefix: validation, host addresses, forwarding, per-VM exposure. */
import { existsSync, readFileSync } from "node:fs";
import type { AgentClient } from "../agent/client.ts";
import { ROUTE_BRIDGES } from "../agent/actions/network.ts";
import type { DbConfig } from "../core/config/schemas.ts";
import { paths } from "../core/paths.ts";
import { brokerAllocation } from "../core/config/network.ts";
import { BlockhostError, oneLine } from "../core/errors.ts";
import { bigIntToIpv6, parseIpv6Prefix } from "../core/ipv6.ts";

/** The agent as these functions use it (the typed client, or a test's in-process runner). */
export type PrefixAgent = Pick<AgentClient, "call">;

/** A manual prefix, canonical, with the two addresses the host keeps for itself. */
export interface HostPrefix {
  /** Canonical `network/bits`. */
  readonly prefix: string;
  readonly bits: number;
  /** `prefix::1`: on the VM bridge (as /128), the VMs' IPv6 gateway. */
  readonly bridgeAddress: string;
  /** `prefix::2`: on lo, the host's own public IPv6. */
  readonly hostAddress: string;
}

/** Parse and check an operator's or broker's prefix (the one rule, core/ipv6.ts) and name the host's two addresses. */
export function parseHostPrefix(text: string): HostPrefix {
  const { network, bits, prefix } = parseIpv6Prefix(text);
  return { prefix, bits, bridgeAddress: bigIntToIpv6(network + 1n), hostAddress: bigIntToIpv6(network + 2n) };
}

/** Where the prefix meets this host. */
export interface PrefixHostOptions {
  /** The VM bridge (vmbr0 on Proxmox, virbr0 for libvirt). */
  readonly bridge: (typeof ROUTE_BRIDGES)[number];
  /** The upstream interface; needed for NDP proxy and to keep its router advertisements. */
  readonly uplink?: string;
  /** Answer neighbour solicitations for the host's and VMs' addresses on the uplink. */
  readonly ndpProxy?: boolean;
}

/**
 * Set the host up for a routed prefix, idempotently: forwarding persisted in sysctl.d, lo
 * with `::2/128`, the bridge with `::1/128`, and (NDP proxy mode) an uplink proxy entry for `::2`.
 */
export async function setupPrefixHost(agent: PrefixAgent, p: HostPrefix, o: PrefixHostOptions): Promise<void> {
  if (o.ndpProxy && !o.uplink) throw new BlockhostError("E_INVALID_INPUT", "NDP proxy needs the uplink interface");
  await agent.call("ipv6-forwarding-persist", o.uplink ? { uplink: o.uplink, ndpProxy: o.ndpProxy === true } : {});
  await agent.call("ip6-addr-add", { address: `${p.hostAddress}/128`, dev: "lo" });
  await agent.call("ip6-addr-add", { address: `${p.bridgeAddress}/128`, dev: o.bridge });
  if (o.ndpProxy && o.uplink) await agent.call("ndp-proxy-add", { address: p.hostAddress, dev: o.uplink });
}

/** One VM's public address on this host. */
export interface VmAddress {
  readonly address: string;
  /** The VM bridge, or the VM's own tap device. */
  readonly bridge: string;
  /** The uplink to answer neighbour solicitations on, when the upstream router expects them. */
  readonly ndpUplink?: string;
}

/** Route the VM's `/128` to its bridge and, where needed, proxy its neighbour discovery upstream. */
export async function exposeVmAddress(agent: PrefixAgent, vm: VmAddress): Promise<void> {
  await agent.call("ip6-route-add", { address: `${vm.address}/128`, dev: vm.bridge });
  if (vm.ndpUplink) await agent.call("ndp-proxy-add", { address: vm.address, dev: vm.ndpUplink });
}

/**
 * Withdraw what exposeVmAddress set up. Both steps run even if one fails (a destroy must not
 * leave the address half-reachable); the first failure is reported after both ran.
 */
export async function withdrawVmAddress(agent: PrefixAgent, vm: VmAddress): Promise<void> {
  const failures: string[] = [];
  if (vm.ndpUplink) {
    await agent
      .call("ndp-proxy-del", { address: vm.address, dev: vm.ndpUplink })
      .catch((e) => failures.push(oneLine(e)));
  }
  await agent
    .call("ip6-route-del", { address: `${vm.address}/128`, dev: vm.bridge })
    .catch((e) => failures.push(oneLine(e)));
  if (failures.length)
    throw new BlockhostError("E_COMMAND_FAILED", `withdrawing ${vm.address}: ${failures.join("; ")}`);
}

/**
 * After a reboot: the host's `::1`/`::2` and the proxy entry for `::2` are runtime state (forwarding
 * is in sysctl.d, wg-broker comes back through wg-quick), so the engine puts them back at start.
 * Returns what it did, or why it did nothing (no prefix mode, or a bridge the agent does not route to).
 */
export async function restoreHostPrefix(agent: PrefixAgent, db: DbConfig): Promise<string> {
  const modeFile = paths.config("network-mode");
  const mode = existsSync(modeFile) ? readFileSync(modeFile, "utf8").trim() : "none";
  if (mode !== "manual" && mode !== "broker") return `network mode ${mode}: no prefix to restore`;
  const text = brokerAllocation().prefix ?? db.ipv6_pool?.prefix;
  if (!text) return `network mode ${mode} but no prefix in broker-allocation.json or db.yaml`;
  const bridge = db.bridge;
  if (!bridge || !(ROUTE_BRIDGES as readonly string[]).includes(bridge))
    return `db.yaml bridge ${bridge ?? "(none)"} is not one the agent routes to: host addresses not restored`;
  const prefix = parseHostPrefix(text);
  const uplink = db.ipv6_pool?.ndp_proxy_dev;
  await setupPrefixHost(agent, prefix, {
    bridge: bridge as (typeof ROUTE_BRIDGES)[number],
    ...(uplink ? { uplink, ndpProxy: true } : {}),
  });
  const proxied = uplink ? `, proxied on ${uplink}` : "";
  return `${prefix.prefix}: ${prefix.bridgeAddress} on ${bridge}, ${prefix.hostAddress} on lo${proxied}`;
}
