/** The guest files the first boot writes from a seed: ifupdown stanzas, resolv.conf, hosts, sudoers. */
import type { GuestInterface, GuestSeed, GuestUser } from "./seed.ts";

export const HEADER = "# Written by blockhost guest firstboot from this VM's NoCloud seed.";

/**
 * ifupdown stanzas for the NICs (by their names in the guest). A /128 IPv6 address with an
 * off-link gateway works because ifupdown adds its default route `onlink`. DAD is not awaited:
 * the host's allocator hands out each address once.
 */
export function interfacesFile(nics: GuestInterface[]): string {
  const out = [HEADER];
  for (const nic of nics) {
    out.push("", `auto ${nic.name}`);
    if (nic.dhcp4) out.push(`iface ${nic.name} inet dhcp`);
    nic.ipv4.forEach((a, i) => {
      out.push(`iface ${nic.name} inet static`, `    address ${a.address}/${a.bits}`);
      if (i === 0 && nic.gateway4) out.push(`    gateway ${nic.gateway4}`);
    });
    if (nic.auto6) out.push(`iface ${nic.name} inet6 ${nic.auto6 === "dhcp" ? "dhcp" : "auto"}`);
    nic.ipv6.forEach((a, i) => {
      out.push(`iface ${nic.name} inet6 static`, `    address ${a.address}/${a.bits}`, "    dad-attempts 0");
      if (i === 0 && nic.gateway6) out.push(`    gateway ${nic.gateway6}`);
    });
  }
  return `${out.join("\n")}\n`;
}

/** /etc/resolv.conf: the seed's resolvers (IPv4 and IPv6, at most three are read) and search domains. */
export function resolvConf(seed: Pick<GuestSeed, "nameservers" | "search">): string {
  const lines = [HEADER, ...seed.nameservers.map((n) => `nameserver ${n}`)];
  if (seed.search.length) lines.push(`search ${seed.search.join(" ")}`);
  return `${lines.join("\n")}\n`;
}

/** /etc/hosts naming this VM on 127.0.1.1 (Debian's convention), with the usual IPv6 entries. */
export function hostsFile(seed: Pick<GuestSeed, "hostname" | "fqdn">): string {
  const names = seed.fqdn && seed.fqdn !== seed.hostname ? `${seed.fqdn} ${seed.hostname}` : seed.hostname;
  return `${HEADER}
127.0.0.1 localhost
127.0.1.1 ${names}
::1 localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`;
}

/** /etc/sudoers.d/90-blockhost-users: one line per rule of each user that has sudo rules. */
export function sudoersFile(users: GuestUser[]): string | null {
  const lines = users.flatMap((u) => u.sudo.map((rule) => `${u.name} ${rule}`));
  return lines.length ? `${HEADER}\n${lines.join("\n")}\n` : null;
}

/** A systemd .link file naming the NIC with `mac` as `name` on every later boot. */
export function linkFile(mac: string, name: string): string {
  return `${HEADER}\n[Match]\nMACAddress=${mac}\n\n[Link]\nName=${name}\n`;
}
