/** Step `ipv6`: the network mode; for a manual prefix the allocation file VMs take /128s from, and the host side. */
import { ROUTE_BRIDGES } from "../../agent/actions/network.ts";
import { BlockhostError } from "../../core/errors.ts";
import { parseHostPrefix, setupPrefixHost } from "../../network/prefix-host.ts";
import type { SetupContext } from "../context.ts";
import type { BackendChoice } from "../schema.ts";
import { writeConfig, type SetupStep } from "./types.ts";

type RouteBridge = (typeof ROUTE_BRIDGES)[number];

/** The VM bridge the prefix's `::1` goes on, or undefined for the dry-run backend (no VMs, no host side). */
function vmBridge(ctx: SetupContext, backend: BackendChoice): RouteBridge | undefined {
  if (backend === "dry-run") return undefined;
  const bridge = "proxmox" in backend ? backend.proxmox.bridge : backend.libvirt.bridge;
  if (!(ROUTE_BRIDGES as readonly string[]).includes(bridge))
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${ctx.fileName}: backend bridge ${bridge}: a routed IPv6 prefix needs one of ${ROUTE_BRIDGES.join(", ")}`,
    );
  return bridge as RouteBridge;
}

export const ipv6: SetupStep = {
  name: "ipv6",
  title: "IPv6",
  async run(ctx) {
    const mode = ctx.file.network.ipv6;
    if (mode === "none") {
      await writeConfig(ctx, "network-mode", "none\n");
      return { mode: "none" };
    }
    const prefix = parseHostPrefix(mode.manual);
    const bridge = vmBridge(ctx, ctx.file.backend);
    await writeConfig(
      ctx,
      "broker-allocation.json",
      `${JSON.stringify({ prefix: mode.manual, mode: "manual" }, null, 2)}\n`,
    );
    const result = { mode: "manual", prefix: prefix.prefix };
    if (!bridge) {
      await writeConfig(ctx, "network-mode", "manual\n");
      return { ...result, host: "not set up: the dry-run backend starts no VMs" };
    }
    await setupPrefixHost(ctx.agent, prefix, {
      bridge,
      ...(mode.uplink ? { uplink: mode.uplink } : {}),
      ndpProxy: mode.ndp_proxy,
    });
    await writeConfig(ctx, "network-mode", "manual\n");
    return {
      ...result,
      bridge,
      bridge_address: prefix.bridgeAddress,
      host_address: prefix.hostAddress,
      ...(mode.ndp_proxy ? { ndp_proxy_dev: mode.uplink } : {}),
    };
  },
};
