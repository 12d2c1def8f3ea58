/**
 * Anti-spoofing for libvirt VM ports: an nftables `bridge` table that binds each VM's bridge port
 * to its own MAC, IPv4 and IPv6 addresses (the threat: a customer is root in their VM and shares
 * the bridge with the host and other customers).
 */
import { ipv6ToBigInt } from "../../provision/ipv6.ts";

/** The nftables table that holds every binding (bridge family: it sees frames on the bridge ports). */
export const GUARD_TABLE = "blockhost_guard";
/** Every libvirt VM port is named `bhv` + 12 hex digits; a port of that shape with no binding drops everything. */
export const PORT_PREFIX = "bhv";
export const PORT_RE = /^bhv[0-9a-f]{12}$/;

/** What one VM may send from its port. */
export interface PortBinding {
  /** The host-side device of the VM's NIC (a libvirt tap named by `vmPortName`). */
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

/** The per-port chain: everything a VM may put on the bridge, in the order it is checked. */
function portChain(b: PortBinding): string[] {
  const own6 = [linkLocalFromMac(b.mac), ...b.ipv6];
  const own6Numbers = set(own6.map(ipv6Number));
  const rules = [
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
  return [`  chain from_${b.port} {`, ...rules.map((r) => `    ${r}`), "  }"];
}

/**
 * The whole table as one `nft -f` transaction: created if missing, emptied, refilled. A VM port
 * (`bhv…`) with no binding drops every frame it sends, and a VM port receives only unicast for its
 * own MAC (plus broadcast and multicast), so a flooded frame for another VM is not handed to it.
 */
export function guardRuleset(bindings: PortBinding[]): string {
  const sorted = [...bindings].sort((a, b) => a.port.localeCompare(b.port));
  return [
    `table bridge ${GUARD_TABLE}`,
    `delete table bridge ${GUARD_TABLE}`,
    `table bridge ${GUARD_TABLE} {`,
    "  chain from_vms {",
    "    type filter hook prerouting priority -300; policy accept;",
    ...sorted.map((b) => `    iifname "${b.port}" jump from_${b.port}`),
    `    iifname "${PORT_PREFIX}*" drop`,
    "  }",
    "  chain to_vms {",
    "    type filter hook postrouting priority -300; policy accept;",
    ...sorted.map(
      (b) =>
        `    oifname "${b.port}" ether daddr != ${b.mac} ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 drop`,
    ),
    "  }",
    ...sorted.flatMap(portChain),
    "}",
    "",
  ].join("\n");
}
