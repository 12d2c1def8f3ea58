/** The closed table of agent actions and the types the client derives from it. */
import type { ActionDef } from "./types.ts";
import * as system from "./system.ts";
import * as qm from "./qm.ts";
import * as pveCluster from "./pve-cluster.ts";
import * as network from "./network.ts";
import * as ipv6Host from "./ipv6-host.ts";
import * as tls from "./tls.ts";
import * as wireguard from "./wireguard.ts";
import * as firewall from "./firewall.ts";
import * as wallet from "./wallet.ts";
import * as config from "./config.ts";
import * as adminCommands from "./admin-commands.ts";
import * as libvirt from "./libvirt.ts";
import * as snippets from "./snippets.ts";
import * as setup from "./setup.ts";
import * as portGuard from "./port-guard.ts";
import * as pveFirewall from "./pve-firewall.ts";
import * as usage from "./usage.ts";

/** The closed table of agent actions: each family module exports its ActionDefs. */
const families = [
  system,
  qm,
  pveCluster,
  network,
  ipv6Host,
  wireguard,
  tls,
  firewall,
  wallet,
  config,
  adminCommands,
  snippets,
  setup,
  libvirt,
  portGuard,
  pveFirewall,
  usage,
] as const;

type Values<T> = T[keyof T];
type AllDefs = Extract<Values<{ [I in keyof typeof families]: Values<(typeof families)[I]> }>, ActionDef>;

/** Every action name the agent serves. */
export type ActionName = AllDefs["name"];
type DefOf<N extends ActionName> = Extract<AllDefs, { name: N }>;
export type ActionParams<N extends ActionName> = DefOf<N> extends ActionDef<infer P, N, infer _R> ? P : never;
export type ActionResponse<N extends ActionName> = DefOf<N> extends ActionDef<infer _P, N, infer R> ? R : never;

export const ACTIONS: ReadonlyMap<string, ActionDef> = new Map(
  families
    .flatMap((f) => Object.values(f) as unknown[])
    .filter(isAction)
    .map((a) => [a.name, a]),
);

function isAction(v: unknown): v is ActionDef {
  return typeof v === "object" && v !== null && "name" in v && "handler" in v && "params" in v;
}
