/** Step `ipv6`: the network mode; a manual prefix or one from the broker (tunnel up), and the host side of it. */
import { ROUTE_BRIDGES } from "../../agent/actions/network.ts";
import { getAddress, type Hex } from "viem";
import { readKeyFile } from "../../crypto/keyfile.ts";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { paths } from "../../core/paths.ts";
import { type BrokerAllocation, readBrokerAllocation } from "../../core/config/broker-allocation.ts";
import { pickBroker, requestAllocation } from "../../network/broker/client.ts";
import { type HostPrefix, parseHostPrefix, setupPrefixHost } from "../../network/prefix-host.ts";
import { deployerAccount, resultOf, type SetupContext } from "../context.ts";
import type { BackendChoice, BrokerIpv6 } from "../schema.ts";
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

/** The broker's allocation: the saved one when it is for this host's NFT contract, else a new request. */
async function brokerAllocationFor(ctx: SetupContext, mode: BrokerIpv6["broker"]): Promise<BrokerAllocation> {
  const nft = getAddress(resultOf(ctx, "contracts").nft as Hex);
  const saved = readBrokerAllocation();
  const agent = ctx.agent;
  if (saved && getAddress(saved.nft_contract as Hex) === nft) {
    // A resumed finalization: the prefix is ours already; bring the tunnel up again (idempotent).
    await agent.call("wg-broker-up", {
      peer_public_key: saved.broker_pubkey,
      endpoint: saved.broker_endpoint,
      keepalive: 25,
    });
    return saved;
  }
  const client = {
    access: ctx.access,
    account: deployerAccount(),
    nftContract: nft,
    serverKey: readKeyFile(paths.serverKey, "server key file"),
    agent,
    timeoutMs: mode.timeout_s * 1000,
    confirmations: ctx.file.chain.confirmations ?? 0,
    say: (line: string) => logEvent("setup.ipv6", { broker: line }),
  };
  // A crash after submitRequest repeats it on resume: the broker keeps an NFT contract's prefix (costs gas only).
  return requestAllocation(client, await pickBroker(ctx.access, mode.registry as Hex, mode.broker_id));
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
    const bridge = vmBridge(ctx, ctx.file.backend);
    let name: "manual" | "broker";
    let prefix: HostPrefix;
    let extra: Record<string, unknown> = {};
    if ("broker" in mode) {
      name = "broker";
      const a = await brokerAllocationFor(ctx, mode.broker);
      prefix = parseHostPrefix(a.prefix);
      extra = { broker_id: a.broker_id, broker_endpoint: a.broker_endpoint, request_id: a.request_id };
    } else {
      name = "manual";
      prefix = parseHostPrefix(mode.manual);
      await writeConfig(
        ctx,
        "broker-allocation.json",
        `${JSON.stringify({ prefix: mode.manual, mode: "manual" }, null, 2)}\n`,
      );
      if (mode.ndp_proxy) extra = { ndp_proxy_dev: mode.uplink };
    }
    const result = { mode: name, prefix: prefix.prefix, ...extra };
    if (!bridge) {
      await writeConfig(ctx, "network-mode", `${name}\n`);
      return { ...result, host: "not set up: the dry-run backend starts no VMs" };
    }
    const manual = "manual" in mode ? mode : undefined;
    await setupPrefixHost(ctx.agent, prefix, {
      bridge,
      ...(manual?.uplink ? { uplink: manual.uplink } : {}),
      ndpProxy: manual?.ndp_proxy === true,
    });
    await writeConfig(ctx, "network-mode", `${name}\n`);
    return { ...result, bridge, bridge_address: prefix.bridgeAddress, host_address: prefix.hostAddress };
  },
};
