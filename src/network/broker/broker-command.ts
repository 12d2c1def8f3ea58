/** `blockhost broker request|status|renew|release`: the host's IPv6 prefix from the on-chain tunnel broker. */
import { defineCommand } from "citty";
import type { Hex } from "viem";
import { AgentClient } from "../../agent/client.ts";
import { brokerRequestsAbi } from "../../chain/contracts/generated/BrokerRequests.ts";
import { contractAddress, loadChainContext, loadDeployer } from "../../chain/context.ts";
import { readKeyFile } from "../../crypto/keyfile.ts";
import { loadBlockhostConfig } from "../../core/config/index.ts";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { addressArg } from "../../core/address.ts";
import { readBrokerAllocation } from "../../core/config/broker-allocation.ts";
import { type BrokerClientOptions, brokerOf, pickBroker, releaseAllocation, requestAllocation } from "./client.ts";

const say = (line: string) => process.stderr.write(`${line}\n`);

function secondsArg(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1)
    throw new BlockhostError("E_USAGE", `--${name}: expected whole seconds from 1 to 99999`);
  return Number(v);
}

/** The chain, the deployer wallet, the NFT contract and the server key, from the host's config. */
function clientOptions(timeoutS: number): BrokerClientOptions {
  const { web3, access } = loadChainContext();
  return {
    access,
    account: loadDeployer(web3),
    nftContract: contractAddress(web3, "nft"),
    serverKey: readKeyFile(loadBlockhostConfig().server.key_file, "server key file"),
    agent: new AgentClient(),
    timeoutMs: timeoutS * 1000,
    confirmations: web3.blockchain.confirmations ?? 0,
    say,
  };
}

const printAllocation = (a: NonNullable<ReturnType<typeof readBrokerAllocation>>) =>
  process.stdout.write(
    [
      `prefix:    ${a.prefix}`,
      `gateway:   ${a.gateway}`,
      `broker:    #${a.broker_id} ${a.broker_endpoint} (operator ${a.broker_wallet})`,
      `request:   #${a.request_id} on ${a.requests_contract} for ${a.nft_contract}`,
      `allocated: ${a.allocated_at}${a.dns_zone ? `\ndns zone:  ${a.dns_zone}` : ""}`,
      "",
    ].join("\n"),
  );

const timeoutArg = {
  type: "string",
  valueHint: "SECONDS",
  description: "Seconds to wait for the broker's reply (default 300)",
} as const;

const request = defineCommand({
  meta: {
    name: "request",
    description: "Ask a tunnel broker for a public IPv6 prefix and bring the WireGuard tunnel (wg-broker) up",
    examples: ["blockhost broker request --registry 0x52908400098527886E0F7030069857D2E4169EE7"],
  },
  args: {
    registry: {
      type: "string",
      required: true,
      valueHint: "ADDRESS",
      description: "The broker registry contract's 0x address",
    },
    "broker-id": {
      type: "string",
      valueHint: "ID",
      description: "Ask this broker (default: the first active one with room)",
    },
    timeout: timeoutArg,
  },
  async run({ args }) {
    const registry = addressArg(args.registry, "--registry");
    const id = args["broker-id"];
    if (id !== undefined && !/^\d{1,9}$/.test(id))
      throw new BlockhostError("E_USAGE", "--broker-id: expected a broker number (1, 2, …)");
    const o = clientOptions(secondsArg(args.timeout, "timeout", 300));
    const broker = await pickBroker(o.access, registry, id === undefined ? undefined : Number(id));
    printAllocation(await requestAllocation(o, broker));
  },
});

const renew = defineCommand({
  meta: {
    name: "renew",
    description: "Ask the same broker again: same prefix, the tunnel brought up again",
    examples: ["blockhost broker renew", "blockhost broker renew --rotate-key"],
  },
  args: { timeout: timeoutArg, "rotate-key": { type: "boolean", description: "Use a new WireGuard key" } },
  async run({ args }) {
    const saved = readBrokerAllocation();
    if (!saved)
      throw new BlockhostError(
        "E_NOT_FOUND",
        `${paths.brokerAllocation}: no broker allocation to renew (use: blockhost broker request --registry 0x…)`,
      );
    const o = clientOptions(secondsArg(args.timeout, "timeout", 300));
    printAllocation(await requestAllocation(o, brokerOf(saved), { rotateKey: args["rotate-key"] === true }));
  },
});

const status = defineCommand({
  meta: {
    name: "status",
    description: "Show the prefix this host got, the tunnel's last handshake and the request on the chain",
    examples: ["blockhost broker status"],
  },
  async run() {
    const saved = readBrokerAllocation();
    if (!saved) {
      process.stdout.write("no broker allocation\n");
      return;
    }
    printAllocation(saved);
    const agent = new AgentClient();
    const wg = await agent.call("wg-broker-status", {});
    const ago = Number(wg.latest_handshake)
      ? `${Math.round(Date.now() / 1000 - Number(wg.latest_handshake))} s ago`
      : "never";
    process.stdout.write(`tunnel:    ${wg.up ? `wg-broker up, last handshake ${ago}` : "wg-broker is down"}\n`);
    const { access } = loadChainContext();
    const onChain = await access.publicClient.readContract({
      address: saved.requests_contract as Hex,
      abi: brokerRequestsAbi,
      functionName: "nftContractToRequestId",
      args: [saved.nft_contract as Hex],
    });
    process.stdout.write(
      `on chain:  latest request #${onChain}${Number(onChain) === saved.request_id ? "" : " (not ours: renew)"}\n`,
    );
  },
});

const release = defineCommand({
  meta: {
    name: "release",
    description: "Take the tunnel down and forget the prefix (the broker takes it back once the tunnel stays quiet)",
    examples: ["blockhost broker release"],
  },
  async run() {
    const r = await releaseAllocation(new AgentClient());
    process.stdout.write(
      `tunnel ${r.tunnel ? "removed" : "was not up"}; allocation ${r.file ? "deleted" : "was not saved"}\n`,
    );
  },
});

export default defineCommand({
  meta: {
    name: "broker",
    description: "Get the host a public IPv6 prefix from a tunnel broker found on the chain (over WireGuard)",
    examples: ["blockhost broker status"],
  },
  subCommands: { request, status, renew, release },
});
