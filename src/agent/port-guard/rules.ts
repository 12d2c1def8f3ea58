/**
 * Anti-spoofing for libvirt VM ports: an nftables `bridge` table that binds each VM's bridge port
 * to its own MAC, IPv4 and IPv6 addresses (the threat: a customer is root in their VM and shares
 * the bridge with the host and other customers).
 */
import { ipv6ToBigInt } from "../../core/ipv6.ts";

/** The nftables table that holds every binding (bridge family: it sees frames on the bridge ports). */
export const GUARD_TABLE = "blockhost_guard";
/** Every libvirt VM port is named `bhv` + 12 hex digits; a port of that shape with no binding drops everything. */
export const PORT_PREFIX = "bhv";
export const PORT_RE = /^bhv[0-9a-f]{12}$/;
/**
 * A Proxmox VM's net0 tap (`tap<vmid>i0`, named by qemu-server). Such a port with no binding is left
 * alone: other taps on the host may be the operator's own VMs.
 */
export const PVE_PORT_RE = /^tap\d{3,9}i0$/;

/** What one VM may send from its port. */
export interface PortBinding {
  /** The host-side device of the VM's NIC (a libvirt tap named by `vmPortName`, or a Proxmox `tap<vmid>i0`). */
  port: string;
  mac: string;
  ipv4: string[];
  /** Global addresses; the link-local address derived from the MAC is always allowed too. */
  ipv6: string[];
}

/**
 * The host-side device name of a VM's NIC, derived from the VM name and fixed in the domain XML, so
 * rules keyed on it hold across restarts (libvirt's own vnetN names are handed out again to other VMs).
 */
export function vmPortName(vmName: string): string {
  return PORT_PREFIX + new Bun.CryptoHasher("sha256").update(`blockhost-port\0${vmName}`).digest("hex").slice(0, 12);
}

/** The EUI-64 link-local address of a MAC (what the guest kernel configures by default). */
export function linkLocalFromMac(mac: string): string {
  const b = mac.split(":").map((h) => parseInt(h, 16));
  b[0]! ^= 0x02;
  const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
  return `fe80::${hex(b[0]!, b[1]!)}:${hex(b[2]!, 0xff)}:${hex(0xfe, b[3]!)}:${hex(b[4]!, b[5]!)}`;
}

const set = (items: string[]) => `{ ${items.join(", ")} }`;
/** nftables cannot compare a raw payload with an IPv6 literal: give the 128-bit number instead. */
const ipv6Number = (a: string) => `0x${ipv6ToBigInt(a).toString(16).padStart(32, "0")}`;

/** The checks of one port's chain: everything a VM may put on the bridge, in the order they run. */
function fromPortRules(b: PortBinding): string[] {
  const own6 = [linkLocalFromMac(b.mac), ...b.ipv6];
  const own6Numbers = set(own6.map(ipv6Number));
  return [
    // Layer 2: only its own MAC, only ARP/IPv4/IPv6 (no VLAN tags, no other protocols).
    `ether saddr != ${b.mac} drop`,
    "ether type != { arp, ip, ip6 } drop",
    // ARP: its own MAC and IPv4 as sender (0.0.0.0 for RFC 5227 probes), so no neighbour learns another's address at it.
    `arp saddr ether != ${b.mac} drop`,
    `arp saddr ip != ${set([...b.ipv4, "0.0.0.0"])} drop`,
    // IPv4: a DHCP request from 0.0.0.0, else only its own source address.
    "ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept",
    b.ipv4.length ? `ip saddr != ${set(b.ipv4)} drop` : "ether type ip drop",
    // No DHCP/DHCPv6 server and no router on a customer port.
    "udp sport { 67, 547 } drop",
    "icmpv6 type { nd-router-advert, nd-redirect } drop",
    // NDP: advertise only its own addresses (the target field, 8 bytes into the ICMPv6 header).
    `icmpv6 type nd-neighbor-advert @th,64,128 != ${own6Numbers} drop`,
    // Duplicate address detection comes from :: and may only probe its own addresses.
    `ip6 saddr :: icmpv6 type nd-neighbor-solicit @th,64,128 != ${own6Numbers} drop`,
    "ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } accept",
    `ip6 saddr != ${set(own6)} drop`,
    // Passed every check: skip the catch-all drop for unbound ports in the base chain.
    "accept",
  ];
}

const T = `bridge ${GUARD_TABLE}`;

/**
 * The table's skeleton, idempotent: two verdict maps (port → its chain) and the base chains that
 * consult them. A VM port (`bhv…`) with no entry drops every frame it sends. Ports are added and
 * removed one by one, never by rebuilding the table, so hosts with several BlockHost roots (tests,
 * two `blockhost dev` demos) do not unbind each other's VMs.
 */
export function guardBase(): string[] {
  return portMapTable(GUARD_TABLE, -300, [`add rule ${T} from_vms iifname "${PORT_PREFIX}*" drop`]);
}

/**
 * A `bridge` table whose two base chains (from VMs at prerouting, to VMs at postrouting, at
 * `priority`) hand each frame to its port's chain through a verdict map, idempotent: the guard
 * and the rate cap each keep one. `fromTail` follows the map lookup in the from-VM chain.
 */
export function portMapTable(table: string, priority: number, fromTail: string[] = []): string[] {
  const t = `bridge ${table}`;
  return [
    `table ${t} {`,
    "  map from_ports { type ifname : verdict; }",
    "  map to_ports { type ifname : verdict; }",
    `  chain from_vms { type filter hook prerouting priority ${priority}; policy accept; }`,
    `  chain to_vms { type filter hook postrouting priority ${priority}; policy accept; }`,
    "}",
    `flush chain ${t} from_vms`,
    `flush chain ${t} to_vms`,
    `add rule ${t} from_vms iifname vmap @from_ports`,
    ...fromTail,
    `add rule ${t} to_vms oifname vmap @to_ports`,
  ];
}

/**
 * Bind one port (replacing any earlier binding). Towards the VM only unicast for its own MAC passes
 * (plus broadcast and multicast), so a frame flooded for another VM is not handed to it.
 */
export function bindPort(b: PortBinding): string[] {
  const from = `from_${b.port}`;
  const to = `to_${b.port}`;
  return [
    `add chain ${T} ${from}`,
    `flush chain ${T} ${from}`,
    ...fromPortRules(b).map((r) => `add rule ${T} ${from} ${r}`),
    `add chain ${T} ${to}`,
    `flush chain ${T} ${to}`,
    `add rule ${T} ${to} ether daddr != ${b.mac} ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 drop`,
    `add element ${T} from_ports { "${b.port}" : jump ${from} }`,
    `add element ${T} to_ports { "${b.port}" : jump ${to} }`,
  ];
}

/** Unbind one port; adding first makes the deletes succeed whether or not it was bound. */
export function unbindPort(port: string): string[] {
  return [
    `add chain ${T} from_${port}`,
    `add chain ${T} to_${port}`,
    `add element ${T} from_ports { "${port}" : jump from_${port} }`,
    `add element ${T} to_ports { "${port}" : jump to_${port} }`,
    `delete element ${T} from_ports { "${port}" }`,
    `delete element ${T} to_ports { "${port}" }`,
    `delete chain ${T} from_${port}`,
    `delete chain ${T} to_${port}`,
  ];
}
