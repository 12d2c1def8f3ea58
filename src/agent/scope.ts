/**
 * What the root agent may act on: BlockHost's own objects and nothing else, so a compromised
 * `blockhost` account cannot reach the operator's other VMs, domains, ports, routes or tunnels.
 * Every rule lives here; action handlers call one `require…` per object they touch, and a refusal
 * is E_AGENT_OUT_OF_SCOPE with `{kind, value}` details (the server writes one `agent.out_of_scope`
 * audit line per refusal, see auditOutOfScope). The facts come from root-owned files the service
 * cannot change after setup (db.yaml, blockhost.yaml) or from files the agent writes itself.
 */
import { existsSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { type AdminCommands, loadAdminCommands } from "../core/config/admin-commands.ts";
import { loadConfigFile } from "../core/config/load.ts";
import { blockhostConfigSchema, dbConfigSchema } from "../core/config/schemas.ts";
import { BlockhostError, isBlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { paths } from "../core/paths.ts";
import { readBrokerAllocation } from "../core/config/broker-allocation.ts";
import { ipv6InPrefix } from "../core/ipv6.ts";
import { brokerAllocation } from "../core/config/network.ts";
import type { PeerCredentials } from "./actions/types.ts";
import { setupIsComplete } from "./setup-state.ts";

/** The stable code of every scope refusal. */
export const OUT_OF_SCOPE = "E_AGENT_OUT_OF_SCOPE" as const;

/** The kinds of object the agent scopes; `details.kind` of a refusal. */
export type ScopeKind = "vmid" | "domain" | "port" | "route" | "address" | "broker-peer";

/** Throw the scope refusal of `value` (a `kind` object) with a one-line reason. */
export function refuse(kind: ScopeKind, value: string | number, why: string): never {
  throw new BlockhostError(OUT_OF_SCOPE, `${kind} ${value} is not BlockHost's: ${why}`, {
    kind,
    value: String(value),
  });
}

/** Whether `e` is a scope refusal. */
export const isOutOfScope = (e: unknown): e is BlockhostError => isBlockhostError(e) && e.code === OUT_OF_SCOPE;

/** One audit line per refusal (the request's own `agent.request` line carries the code too). */
export function auditOutOfScope(peer: PeerCredentials, action: string, e: BlockhostError): void {
  logEvent("agent.out_of_scope", {
    uid: peer.uid,
    pid: peer.pid,
    action,
    kind: e.details?.kind,
    value: e.details?.value,
    reason: e.message,
  });
}

const dbConfig = () => (existsSync(paths.dbConfig) ? loadConfigFile(paths.dbConfig, dbConfigSchema) : undefined);
const hostConfig = () =>
  existsSync(paths.blockhostConfig) ? loadConfigFile(paths.blockhostConfig, blockhostConfigSchema) : undefined;

/**
 * VMIDs BlockHost owns: db.yaml `vmid_range`, blockhost.yaml `proxmox.template_vmid(s)` and, on a
 * cluster, each node's own template (`proxmox.cluster.nodes.<node>.template_vmid`).
 */
export function vmidScope(): { range?: { start: number; end: number }; templates: number[] } {
  const px = hostConfig()?.proxmox;
  const perNode = Object.values(px?.cluster?.nodes ?? {}).flatMap((n) => (n.template_vmid ? [n.template_vmid] : []));
  return {
    range: dbConfig()?.vmid_range,
    // Every OS's template (proxmox.template_vmids) is BlockHost's as much as the default one.
    templates: [
      ...(px?.template_vmid !== undefined ? [px.template_vmid] : []),
      ...Object.values(px?.template_vmids ?? {}),
      ...perNode,
    ],
  };
}

/** Refuse a VMID outside db.yaml's `vmid_range` that is not one of the templates. */
export function requireVmid(vmid: number): void {
  const { range, templates } = vmidScope();
  if (templates.includes(vmid)) return;
  if (!range) refuse("vmid", vmid, `${paths.dbConfig} is missing, so no VMID is BlockHost's yet`);
  if (vmid < range.start || vmid > range.end)
    refuse("vmid", vmid, `outside vmid_range ${range.start}-${range.end} of ${paths.dbConfig}`);
}

/** virsh reads a UUID-shaped name as a domain UUID, so it could name any domain. */
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The agent's own directory of a libvirt VM: made by qemu-img-overlay, root-owned, never a symlink. */
export function domainIsOurs(name: string): boolean {
  if (UUID_RE.test(name)) return false;
  const st = lstatSync(join(paths.vmsDir, name), { throwIfNoEntry: false });
  return st?.isDirectory() === true && st.uid === 0;
}

/**
 * A libvirt domain is BlockHost's when the agent made its directory under the VMs dir
 * (qemu-img-overlay). `defined` says whether libvirt knows the name now: an unknown name that is
 * not ours is harmless to answer about ("gone"), a known one is somebody else's.
 */
export function requireDomain(name: string, defined: boolean): void {
  if (UUID_RE.test(name)) refuse("domain", name, "a UUID-shaped name could name any libvirt domain");
  if (!domainIsOurs(name) && defined)
    refuse("domain", name, `a libvirt domain BlockHost did not create (no ${join(paths.vmsDir, name)})`);
}

/** A new VM's name must not be a domain libvirt already has (that one is the operator's). */
export function requireNewDomain(name: string, defined: boolean): void {
  if (UUID_RE.test(name)) refuse("domain", name, "a UUID-shaped name could name any libvirt domain");
  if (defined && !domainIsOurs(name)) refuse("domain", name, "libvirt already has a domain of that name");
}

/** Ports the admin knock may open or close: every command's `allowed_ports` (default 22) in admin-commands.json. */
export function knockPorts(): Set<number> {
  return portsOf(loadAdminCommands(paths.config("admin-commands.json")).commands);
}

/** The ports a command table lets the knock open (a command without `allowed_ports` opens 22). */
export function portsOf(commands: AdminCommands["commands"]): Set<number> {
  return new Set(Object.values(commands).flatMap((c) => c.params?.allowed_ports ?? [22]));
}

export function requirePort(port: number): void {
  const ports = knockPorts();
  if (!ports.has(port))
    refuse(
      "port",
      port,
      ports.size ? `not an allowed_ports entry of admin-commands.json (${[...ports].join(", ")})` : "no knock command",
    );
}

/** The routed IPv6 prefixes this host owns: broker-allocation.json's (broker or manual), and db.yaml's legacy `ipv6_pool.prefix`. */
export function ownPrefixes(): string[] {
  const out: string[] = [];
  const broker = brokerAllocation().prefix;
  if (broker) out.push(broker);
  const manual = dbConfig()?.ipv6_pool?.prefix;
  if (manual) out.push(manual);
  return out;
}

/** Refuse an address (`addr` or `addr/len`) that is not inside one of our prefixes. */
export function requireOwnAddress(address: string, kind: ScopeKind = "address"): void {
  const [addr, len] = address.split("/") as [string, string | undefined];
  const prefixes = ownPrefixes();
  const inside = prefixes.some(
    (p) => ipv6InPrefix(addr, p) && (len === undefined || Number(len) >= Number(p.split("/")[1])),
  );
  if (!inside)
    refuse(
      kind,
      address,
      prefixes.length ? `outside ${prefixes.join(" and ")}` : "this host has no routed IPv6 prefix",
    );
}

/** The VM bridge(s) of this host: db.yaml `bridge` and the backend's bridge in blockhost.yaml. */
export function ownBridges(): Set<string> {
  const host = hostConfig();
  return new Set([dbConfig()?.bridge, host?.proxmox?.bridge, host?.libvirt?.bridge].filter((b) => b !== undefined));
}

/** A VM route: inside our prefix, to our bridge or to the tap device of one of our VMIDs. */
export function requireRoute(address: string, dev: string): void {
  requireOwnAddress(address, "route");
  const tap = /^tap(\d+)i\d+$/.exec(dev);
  if (tap) {
    requireVmid(Number(tap[1]));
    return;
  }
  const bridges = ownBridges();
  if (!bridges.has(dev))
    refuse("route", `${address} dev ${dev}`, `${dev} is not the VM bridge (${[...bridges].join(", ") || "none set"})`);
}

/** The WireGuard broker peer must be the one in the saved allocation (broker-allocation.json). */
export function requireBrokerPeer(publicKey: string, endpoint: string): void {
  const saved = readBrokerAllocation();
  if (!saved) refuse("broker-peer", endpoint, `no broker allocation in ${paths.brokerAllocation}`);
  if (saved.broker_pubkey !== publicKey || saved.broker_endpoint !== endpoint)
    refuse("broker-peer", endpoint, `not the broker of ${paths.brokerAllocation} (${saved.broker_endpoint})`);
}

/** What a scope rule may ask the host (answered through the agent's own command runner). */
export interface ScopeProbe {
  /** Whether libvirt has a domain of this name (or UUID) now. */
  domainDefined(name: string): Promise<boolean>;
}

type Params = Record<string, unknown>;
type Rule = (p: Params, probe: ScopeProbe) => void | Promise<void>;

const port: Rule = (p) => requirePort(p.port as number);
const route: Rule = (p) => requireRoute(p.address as string, p.dev as string);
const address: Rule = (p) => requireOwnAddress(p.address as string);
const domain: Rule = async (p, probe) => requireDomain(p.name as string, await probe.domainDefined(p.name as string));
/** Every IPv6 address in `p.ipv6` (a VM's anti-spoofing binding) inside our prefixes. */
const ownIpv6List: Rule = (p) => {
  for (const a of (p.ipv6 as string[] | undefined) ?? []) requireOwnAddress(a);
};
/** A Proxmox VM port (tapNiM, or fwprNpM with the PVE firewall) belongs to the VMID in its name. */
const vmPort: Rule = (p) => {
  const m = /^(?:tap(\d+)i|fwpr(\d+)p)\d+$/.exec(p.dev as string);
  if (m) requireVmid(Number(m[1] ?? m[2]));
};

/**
 * Per-action rules beyond VMIDs. Closing a knock rule (`iptables-close`) and removing the
 * knock's own `blockhost-deny` DROP (`iptables-undeny`) stay open for every port: they only take
 * away access, and must still work after the admin removed a port from admin-commands.json.
 */
const RULES: Readonly<Record<string, Rule>> = {
  "iptables-open": port,
  "iptables-deny": port,
  "ip6-route-add": route,
  "ip6-route-del": route,
  "ip6-addr-add": address,
  "ip6-addr-del": address,
  "ndp-proxy-add": address,
  "ndp-proxy-del": address,
  "wg-broker-up": (p) => requireBrokerPeer(p.peer_public_key as string, p.endpoint as string),
  "qemu-img-overlay": async (p, probe) =>
    requireNewDomain(p.name as string, await probe.domainDefined(p.name as string)),
  "virsh-define": domain,
  "virsh-start": domain,
  "virsh-shutdown": domain,
  "virsh-reboot": domain,
  "virsh-destroy": domain,
  "virsh-undefine": domain,
  "virsh-domstate": domain,
  "virsh-domiflist": domain,
  "virsh-guest-ping": domain,
  "virsh-guest-exec": domain,
  "port-guard-set": async (p, probe) => {
    await domain(p, probe);
    ownIpv6List(p, probe);
  },
  "port-guard-clear": domain,
  "pve-port-guard-set": ownIpv6List,
  "pve-firewall-write": ownIpv6List,
  "bridge-port-isolate": vmPort,
};

/** Parameter keys that name a VMID in any action (qm-*, and any later action that takes one). */
const VMID_KEYS = ["vmid", "newid"] as const;

/**
 * Read-only VMID actions the wizard's hypervisor check runs before finalization has written
 * db.yaml (is the template VMID free?). Only in that window do they answer for any VMID.
 */
const SETUP_READS = new Set(["qm-config", "qm-status"]);
const beforeConfig = (action: string) => SETUP_READS.has(action) && !existsSync(paths.dbConfig) && !setupIsComplete();

/**
 * Refuse (E_AGENT_OUT_OF_SCOPE) a request whose parsed params name an object that is not
 * BlockHost's. Runs after the schema and before the handler, for every caller, root included:
 * the agent acts on BlockHost's objects only, whoever asks.
 */
export async function enforceScope(action: string, params: unknown, probe: ScopeProbe): Promise<void> {
  if (typeof params !== "object" || params === null) return;
  const p = params as Params;
  if (!beforeConfig(action)) for (const key of VMID_KEYS) if (typeof p[key] === "number") requireVmid(p[key] as number);
  await RULES[action]?.(p, probe);
}
