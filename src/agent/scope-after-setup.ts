/**
 * The two files the agent's scope trusts that the service also asks the agent to rewrite:
 * admin-commands.json (the ports the knock may open) and broker-allocation.json (the broker peer
 * and the routed prefix). Once setup is complete a caller other than root may not widen either,
 * so a compromised `blockhost` account cannot write itself a larger scope. Root (the operator's
 * `blockhost agent call …` or `blockhost broker request` run as root) still may.
 */
import type { AdminCommands } from "../core/config/admin-commands.ts";
import { paths } from "../core/paths.ts";
import { type BrokerAllocation, readBrokerAllocation } from "../core/config/broker-allocation.ts";
import type { PeerCredentials } from "./actions/types.ts";
import { knockPorts, portsOf, refuse } from "./scope.ts";
import { setupIsComplete } from "./setup-state.ts";

const unrestricted = (peer: PeerCredentials) => peer.uid === 0 || !setupIsComplete();

/** After setup, a non-root caller's new command table may only use ports the saved table already allows. */
export function requireKnockPortsKept(commands: AdminCommands["commands"], peer: PeerCredentials): void {
  if (unrestricted(peer)) return;
  const allowed = knockPorts();
  for (const port of portsOf(commands))
    if (!allowed.has(port))
      refuse(
        "port",
        port,
        "after setup only root may add a knock port (blockhost agent call admin-commands-save, as root)",
      );
}

/** What a renewal keeps: the broker keeps an NFT contract's prefix and only our WireGuard key changes. */
const PINNED = ["prefix", "gateway", "broker_pubkey", "broker_endpoint"] as const;

/**
 * After setup, a non-root caller may only save a renewal of the saved allocation (same prefix,
 * gateway and broker peer); a new broker or prefix is the operator's `blockhost broker request` as root.
 */
export function requireBrokerRenewal(next: BrokerAllocation, peer: PeerCredentials): void {
  if (unrestricted(peer)) return;
  const saved = readBrokerAllocation();
  if (!saved)
    refuse(
      "broker-peer",
      next.broker_endpoint,
      `no allocation in ${paths.brokerAllocation} to renew; after setup only root may save a new one`,
    );
  for (const key of PINNED)
    if (saved[key] !== next[key])
      refuse("broker-peer", `${key} ${next[key]}`, `a renewal keeps ${key} ${saved[key]}; only root may change it`);
}
