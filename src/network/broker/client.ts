/** The broker client (the original's V3 protocol): pick a broker, request, find the reply, bring the tunnel up. */
import { type Account, bytesToHex, decodeEventLog, getAddress, type Hex, hexToBytes, hexToBigInt } from "viem";
import type { AgentClient } from "../../agent/client.ts";
import type { ChainAccess } from "../../chain/client.ts";
import { brokerRegistryAbi } from "../../chain/contracts/generated/BrokerRegistry.ts";
import { brokerRequestsAbi } from "../../chain/contracts/generated/BrokerRequests.ts";
import { onChain } from "../../chain/errors.ts";
import { writeAndWait } from "../../chain/tx.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { brokerEciesDecrypt, brokerEciesEncrypt } from "../../crypto/ecies-broker.ts";
import { publicKeyOf } from "../../crypto/keys.ts";
import { type BrokerAllocation, brokerResponseSchema } from "../../core/config/broker-allocation.ts";

/** The reply transaction's data starts with the request id, 8 bytes big-endian. */
const REQUEST_ID_BYTES = 8;

export interface BrokerInfo {
  readonly id: number;
  readonly operator: Hex;
  readonly requestsContract: Hex;
  readonly encryptionPubkey: Hex;
  readonly region: string;
}

export interface BrokerClientOptions {
  readonly access: ChainAccess;
  /** The deployer wallet: it owns the NFT contract, which is what the requests contract checks. */
  readonly account: Account;
  readonly nftContract: Hex;
  /** The server's ECIES key (server.key): the broker encrypts its answer to its public key. */
  readonly serverKey: Uint8Array;
  readonly agent: Pick<AgentClient, "call">;
  /** How long to wait for the broker's reply [5 min, as the original]. */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  /** Blocks a reply must be under before it counts [0]. */
  readonly confirmations?: number;
  readonly say?: (line: string) => void;
}

/** Active brokers of the registry that take requests (capacity 0 available or 1 limited; 2 is closed). */
export async function activeBrokers(access: ChainAccess, registry: Hex): Promise<BrokerInfo[]> {
  const read = access.publicClient;
  const count = await onChain("reading the broker registry", () =>
    read.readContract({ address: registry, abi: brokerRegistryAbi, functionName: "getBrokerCount" }),
  );
  const out: BrokerInfo[] = [];
  for (let id = 1n; id <= count; id++) {
    const b = await read.readContract({
      address: registry,
      abi: brokerRegistryAbi,
      functionName: "getBroker",
      args: [id],
    });
    if (!b.active) continue;
    const capacity = await read.readContract({
      address: b.requestsContract,
      abi: brokerRequestsAbi,
      functionName: "capacityStatus",
    });
    if (capacity > 1) continue;
    out.push({
      id: Number(id),
      operator: b.operator,
      requestsContract: b.requestsContract,
      encryptionPubkey: b.encryptionPubkey,
      region: b.region,
    });
  }
  return out;
}

/** The broker to ask: the one named, else the first active one with capacity. */
export async function pickBroker(access: ChainAccess, registry: Hex, brokerId?: number): Promise<BrokerInfo> {
  const brokers = await activeBrokers(access, registry);
  const b = brokerId === undefined ? brokers[0] : brokers.find((x) => x.id === brokerId);
  if (!b)
    throw new BlockhostError(
      "E_NOT_FOUND",
      brokerId === undefined
        ? `broker registry ${registry}: no active broker with capacity`
        : `broker registry ${registry}: broker #${brokerId} is not active or has no capacity`,
    );
  return b;
}

/**
 * Ask `broker` for a prefix (or renew: the broker keeps the prefix of an NFT contract), wait for its
 * encrypted reply in confirmed blocks, save broker-allocation.json and bring `wg-broker` up.
 */
export async function requestAllocation(
  o: BrokerClientOptions,
  broker: BrokerInfo,
  opts: { rotateKey?: boolean } = {},
): Promise<BrokerAllocation> {
  const say = o.say ?? (() => {});
  const key = await o.agent.call("wg-broker-key", { rotate: opts.rotateKey === true });
  const request = JSON.stringify({
    wgPubkey: String(key.public_key),
    nftContract: getAddress(o.nftContract),
    serverPubkey: bytesToHex(publicKeyOf(o.serverKey)),
  });
  const payload = brokerEciesEncrypt(hexToBytes(broker.encryptionPubkey), new TextEncoder().encode(request));
  const afterBlock = await o.access.publicClient.getBlockNumber();
  say(`submitting the request to broker #${broker.id} (${broker.requestsContract})`);
  const { receipt } = await writeAndWait(
    o.access,
    o.account,
    {
      address: broker.requestsContract,
      abi: brokerRequestsAbi,
      functionName: "submitRequest",
      args: [getAddress(o.nftContract), bytesToHex(payload)],
    },
    "submitting the broker request",
  );
  const requestId = requestIdOf(receipt.logs, broker.requestsContract);
  say(`request #${requestId} submitted; waiting for the broker's reply`);
  const reply = await waitForReply(o, broker.operator, afterBlock, requestId);
  let answer: unknown;
  try {
    answer = JSON.parse(new TextDecoder().decode(brokerEciesDecrypt(o.serverKey, reply.body)));
  } catch (e) {
    throw new BlockhostError("E_INVALID_INPUT", `the broker's reply to request #${requestId}: ${oneLine(e)}`);
  }
  const r = brokerResponseSchema.parse(answer, "broker reply");
  const allocation: BrokerAllocation = {
    mode: "broker",
    prefix: r.prefix,
    gateway: r.gateway,
    broker_pubkey: r.brokerPubkey,
    broker_endpoint: r.brokerEndpoint,
    nft_contract: getAddress(o.nftContract),
    request_id: Number(requestId),
    wg_public_key: String(key.public_key),
    allocated_at: new Date().toISOString(),
    broker_wallet: reply.from,
    ...(r.dnsZone ? { dns_zone: r.dnsZone } : {}),
    requests_contract: broker.requestsContract,
    broker_id: broker.id,
    broker_encryption_pubkey: broker.encryptionPubkey,
  };
  await o.agent.call("broker-allocation-write", { allocation });
  await o.agent.call("wg-broker-up", {
    peer_public_key: r.brokerPubkey,
    endpoint: r.brokerEndpoint,
    keepalive: 25,
  });
  say(`prefix ${r.prefix} via ${r.brokerEndpoint}; wg-broker is up`);
  return allocation;
}

/** The broker a saved allocation came from (renewals go back to it; its operator is who answered). */
export function brokerOf(a: BrokerAllocation): BrokerInfo {
  return {
    id: a.broker_id,
    operator: a.broker_wallet as Hex,
    requestsContract: a.requests_contract as Hex,
    encryptionPubkey: a.broker_encryption_pubkey as Hex,
    region: "",
  };
}

function requestIdOf(logs: readonly { address: Hex; data: Hex; topics: readonly Hex[] }[], contract: Hex): bigint {
  for (const log of logs) {
    if (log.address.toLowerCase() !== contract.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: brokerRequestsAbi, data: log.data, topics: log.topics as [Hex, ...Hex[]] });
      if (ev.eventName === "RequestSubmitted") return ev.args.requestId;
    } catch {
      /* another event */
    }
  }
  throw new BlockhostError("E_CHAIN", "the request transaction succeeded but has no RequestSubmitted event");
}

/**
 * Scan blocks after `afterBlock` (whole transactions) for one from the broker's operator to us
 * whose data starts with the request id; the rest is the ECIES ciphertext.
 */
async function waitForReply(
  o: BrokerClientOptions,
  operator: Hex,
  afterBlock: bigint,
  requestId: bigint,
): Promise<{ from: Hex; body: Uint8Array }> {
  const waitMs = o.timeoutMs ?? 300_000;
  const deadline = Date.now() + waitMs;
  const me = o.account.address.toLowerCase();
  let scanned = afterBlock;
  for (;;) {
    const head = (await o.access.publicClient.getBlockNumber()) - BigInt(o.confirmations ?? 0);
    for (let n = scanned + 1n; n <= head; n++) {
      const block = await o.access.publicClient.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== operator.toLowerCase() || tx.to?.toLowerCase() !== me) continue;
        const data = hexToBytes(tx.input);
        if (data.length <= REQUEST_ID_BYTES) continue;
        if (hexToBigInt(bytesToHex(data.subarray(0, REQUEST_ID_BYTES))) !== requestId) continue;
        return { from: getAddress(tx.from), body: data.subarray(REQUEST_ID_BYTES) };
      }
      scanned = n;
    }
    if (Date.now() > deadline)
      throw new BlockhostError(
        "E_TIMEOUT",
        `no reply from broker ${operator} to request #${requestId} within ${Math.round(waitMs / 1000)} s`,
      );
    await Bun.sleep(o.pollMs ?? 5_000);
  }
}

/** `blockhost broker release`: tunnel down, allocation forgotten (V3: the broker reclaims idle peers itself). */
export async function releaseAllocation(agent: Pick<AgentClient, "call">): Promise<{ tunnel: boolean; file: boolean }> {
  const down = await agent.call("wg-broker-down", {});
  const del = await agent.call("broker-allocation-delete", {});
  return { tunnel: down.removed === true, file: del.removed === true };
}
