/** broker-allocation.json: what the broker gave this host (the original's fields, no WireGuard private key). */
import { existsSync } from "node:fs";
import { loadConfigFile } from "./load.ts";
import { paths } from "../paths.ts";
import { int, object, optional, str, type Infer } from "../schema.ts";
import { evmAddress, ipv6 as ipv6Address, ipv6Prefix } from "../validators.ts";

export const wgPublicKey = str(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, "a WireGuard public key (base64)", 44);
export const wgEndpoint = str(
  /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]{2,39}\]):\d{1,5}$/,
  "an endpoint like 203.0.113.7:51820 or [2001:db8::1]:51820",
  48,
);
const dnsZone = str(/^([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$/, "a DNS zone", 253);
const isoTime = str(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, "an ISO time", 40);

/** The broker's decrypted answer (`{prefix, gateway, brokerPubkey, brokerEndpoint, dnsZone?}`), checked. */
export const brokerResponseSchema = object(
  {
    prefix: ipv6Prefix,
    gateway: ipv6Address,
    brokerPubkey: wgPublicKey,
    brokerEndpoint: wgEndpoint,
    dnsZone: optional(str(/^([a-z0-9-]{1,63}\.)*[a-z0-9-]{0,63}$/, "a DNS zone or empty", 253)),
  },
  { extra: "ignore" },
);
export type BrokerResponse = Infer<typeof brokerResponseSchema>;

/**
 * The file (0640 root:blockhost): the original's fields less `wg_private_key` (kept in
 * /etc/blockhost/wg-broker.key by the agent), plus where to renew (`requests_contract`, `broker_id`,
 * `broker_encryption_pubkey`) in place of the original's separate broker-contract.json.
 */
export const brokerAllocationSchema = object({
  mode: str(/^broker$/, '"broker"', 6),
  prefix: ipv6Prefix,
  gateway: ipv6Address,
  broker_pubkey: wgPublicKey,
  broker_endpoint: wgEndpoint,
  nft_contract: evmAddress,
  request_id: int(1, 2 ** 53 - 1),
  wg_public_key: wgPublicKey,
  allocated_at: isoTime,
  broker_wallet: evmAddress,
  dns_zone: optional(dnsZone),
  requests_contract: evmAddress,
  broker_id: int(0, 2 ** 32),
  broker_encryption_pubkey: str(/^0x04[0-9a-fA-F]{128}$/, "an uncompressed secp256k1 public key (0x04…)", 132),
});
export type BrokerAllocation = Infer<typeof brokerAllocationSchema>;

/** The saved allocation in broker mode, or null (none yet, or a manual prefix). */
export function readBrokerAllocation(): BrokerAllocation | null {
  if (!existsSync(paths.brokerAllocation)) return null;
  const raw = loadConfigFile(
    paths.brokerAllocation,
    object({ mode: optional(str(/^[a-z]{1,16}$/, "a mode")) }, { extra: "ignore" }),
    "json",
  );
  if (raw.mode !== "broker") return null;
  return loadConfigFile(paths.brokerAllocation, brokerAllocationSchema, "json");
}
