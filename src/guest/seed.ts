/**
 * A NoCloud seed (meta-data, user-data, network-config) read into what the first boot applies.
 * Both seeds BlockHost's VMs get are understood: the libvirt one (network-config v2 written by
 * src/provision/cloud-init.ts) and Proxmox's generated one (network-config v1 from ipconfig0 and
 * --nameserver, our user-data snippet byte for byte, our pinned meta-data snippet).
 */
import { isIPv4, isIPv6 } from "node:net";
import { parse as parseYaml } from "yaml";
import { BlockhostError } from "../core/errors.ts";

export interface SeedFiles {
  metaData: string;
  userData: string;
  networkConfig?: string;
}

export interface Address {
  address: string;
  bits: number;
}

/** One NIC: found by `mac` (else by `name`), configured statically or by DHCP/SLAAC. */
export interface GuestInterface {
  /** The name the seed gives it (eth0); the NIC is renamed to it when found by MAC. */
  name: string;
  mac?: string;
  ipv4: Address[];
  gateway4?: string;
  ipv6: Address[];
  gateway6?: string;
  dhcp4: boolean;
  /** "slaac" (ipv6_slaac / accept-ra) or "dhcp" (dhcp6). */
  auto6?: "slaac" | "dhcp";
}

export interface GuestUser {
  name: string;
  gecos?: string;
  groups: string[];
  shell?: string;
  /** sudoers rules for this user ("ALL=(ALL) NOPASSWD:ALL"). */
  sudo: string[];
  sshKeys: string[];
}

export interface GuestFile {
  path: string;
  content: Buffer;
  mode: number;
  owner: string;
  group: string;
  append: boolean;
}

export interface GuestSeed {
  instanceId: string;
  hostname: string;
  fqdn?: string;
  users: GuestUser[];
  files: GuestFile[];
  interfaces: GuestInterface[];
  nameservers: string[];
  search: string[];
  /** user-data keys the first boot does not act on (logged, so a seed that expects more is visible). */
  ignored: string[];
}

const bad = (where: string, what: string): never => {
  throw new BlockhostError("E_INVALID_INPUT", `seed ${where}: ${what}`);
};

const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const GROUP_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const DOMAIN_RE =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** An absolute path of plain components: no "..", no control characters, no backslashes. */
const PATH_RE = /^(\/[A-Za-z0-9_.+@=-]{1,255}){1,32}$/;
const SHELL_RE = /^(\/[A-Za-z0-9_.-]{1,64}){1,8}$/;
const SUDO_RE = /^[ -~]{1,200}$/;
const SSH_KEY_RE = /^(ssh|ecdsa|sk)-[A-Za-z0-9@.-]{1,60} [A-Za-z0-9+/=]{16,16384}( [ -~]{0,200})?$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown, where: string): string[] => {
  if (v === undefined || v === null) return [];
  if (typeof v === "string")
    return v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) return bad(where, "expected a list of strings");
  return v as string[];
};

function yamlDoc(text: string, where: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 0 }) ?? {};
  } catch (e) {
    return bad(where, `not valid YAML (${(e as Error).message.split("\n")[0]})`);
  }
}

function hostname(v: unknown, where: string): string {
  if (typeof v !== "string" || !HOST_LABEL.test(v)) return bad(where, "expected a host name (one DNS label)");
  return v;
}

function ip(v: unknown, where: string, family?: 4 | 6): string {
  const s = typeof v === "string" ? v.trim() : "";
  if ((family !== 6 && isIPv4(s)) || (family !== 4 && isIPv6(s))) return s;
  return bad(where, `expected an IPv${family ?? "4/6"} address, got ${JSON.stringify(v)}`);
}

/** "a/b" or an address with a separate netmask/prefix. */
export function cidr(v: unknown, where: string, family: 4 | 6, netmask?: unknown): Address {
  const [addr, len] = String(v ?? "").split("/");
  const address = ip(addr, where, family);
  let bits: number;
  if (len !== undefined) bits = Number(len);
  else if (typeof netmask === "string" && isIPv4(netmask))
    bits = netmask.split(".").reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, "").length, 0);
  else if (netmask !== undefined) bits = Number(netmask);
  else bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(bits) || bits < 1 || bits > (family === 4 ? 32 : 128)) bad(where, `bad prefix length in ${v}`);
  return { address, bits };
}

function mac(v: unknown, where: string): string {
  const m = String(v ?? "").toLowerCase();
  if (!MAC_RE.test(m)) return bad(where, "expected a MAC address");
  return m;
}

/** meta-data: instance-id (required) and local-hostname. */
function parseMeta(text: string): { instanceId: string; hostname?: string } {
  const doc = yamlDoc(text, "meta-data");
  if (!isObject(doc)) return bad("meta-data", "expected a mapping");
  const id = doc["instance-id"];
  if (typeof id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(id))
    return bad("meta-data", "instance-id: expected a short identifier");
  const host = doc["local-hostname"];
  return { instanceId: id, ...(host !== undefined ? { hostname: hostname(host, "meta-data local-hostname") } : {}) };
}

function parseUser(u: unknown, i: number): GuestUser | null {
  const where = `user-data users[${i}]`;
  if (u === "default") return null;
  if (!isObject(u)) return bad(where, "expected a mapping or 'default'");
  const name = u.name;
  if (typeof name !== "string" || !USER_RE.test(name)) return bad(where, "name: expected a lower-case login name");
  const gecos = u.gecos;
  if (gecos !== undefined && (typeof gecos !== "string" || !/^[ -9;-~]{0,255}$/.test(gecos)))
    bad(where, "gecos: expected printable text without ':'");
  const groups = strings(u.groups, `${where} groups`);
  for (const g of groups) if (!GROUP_RE.test(g)) bad(where, `groups: ${JSON.stringify(g)} is not a group name`);
  const shell = u.shell;
  if (shell !== undefined && (typeof shell !== "string" || !SHELL_RE.test(shell))) bad(where, "shell: expected a path");
  const sudoRaw = u.sudo === false || u.sudo === undefined || u.sudo === null ? [] : u.sudo;
  const sudo = typeof sudoRaw === "string" ? [sudoRaw] : strings(sudoRaw, `${where} sudo`);
  for (const r of sudo) if (!SUDO_RE.test(r)) bad(where, "sudo: expected one-line rules");
  const sshKeys = strings(u.ssh_authorized_keys, `${where} ssh_authorized_keys`).map((k) => k.trim());
  for (const k of sshKeys) if (!SSH_KEY_RE.test(k)) bad(where, "ssh_authorized_keys: expected OpenSSH public keys");
  if (u.lock_passwd === false) bad(where, "lock_passwd: false is not supported (wallet login only)");
  return {
    name,
    ...(typeof gecos === "string" ? { gecos } : {}),
    groups,
    ...(typeof shell === "string" ? { shell } : {}),
    sudo,
    sshKeys,
  };
}

function parseFile(f: unknown, i: number): GuestFile {
  const where = `user-data write_files[${i}]`;
  if (!isObject(f)) return bad(where, "expected a mapping");
  const path = f.path;
  if (typeof path !== "string" || !PATH_RE.test(path) || path.split("/").some((c) => c === "." || c === ".."))
    return bad(where, "path: expected an absolute path");
  const raw = f.content ?? "";
  if (typeof raw !== "string") return bad(where, "content: expected text");
  const encoding = String(f.encoding ?? "text/plain").toLowerCase();
  let content: Buffer;
  if (["b64", "base64"].includes(encoding)) content = Buffer.from(raw, "base64");
  else if (encoding === "text/plain") content = Buffer.from(raw, "utf8");
  else return bad(where, `encoding ${encoding}: only text/plain and base64 are supported`);
  const perms = f.permissions ?? "0644";
  const mode =
    typeof perms === "number" ? perms : /^0?[0-7]{3,4}$/.test(String(perms)) ? Number.parseInt(String(perms), 8) : NaN;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    bad(where, "permissions: expected an octal mode like '0644'");
  const [owner = "root", group = owner] = String(f.owner ?? "root:root").split(":");
  if (!USER_RE.test(owner) || !GROUP_RE.test(group)) bad(where, "owner: expected user:group");
  return { path, content, mode, owner, group, append: f.append === true };
}

/** Keys of our cloud-config that need nothing from the first boot (the template already does it). */
const INERT_KEYS = new Set(["ssh_pwauth", "manage_etc_hosts", "preserve_hostname"]);

function parseUserData(text: string, seed: GuestSeed): void {
  if (!/^#cloud-config\s*\n/.test(text)) bad("user-data", "expected a #cloud-config document");
  const doc = yamlDoc(text, "user-data");
  if (!isObject(doc)) throw bad("user-data", "expected a mapping");
  for (const [key, value] of Object.entries(doc)) {
    if (key === "hostname") seed.hostname = hostname(value, "user-data hostname");
    else if (key === "fqdn") {
      if (typeof value !== "string" || !DOMAIN_RE.test(value)) bad("user-data", "fqdn: expected a domain name");
      seed.fqdn = String(value).replace(/\.$/, "");
    } else if (key === "users") {
      if (!Array.isArray(value)) bad("user-data", "users: expected a list");
      seed.users = (value as unknown[]).map(parseUser).filter((u): u is GuestUser => u !== null);
    } else if (key === "write_files") {
      if (!Array.isArray(value)) bad("user-data", "write_files: expected a list");
      seed.files = (value as unknown[]).map(parseFile);
    } else if (!INERT_KEYS.has(key)) seed.ignored.push(key);
  }
}

function dnsInto(seed: GuestSeed, addresses: unknown, search: unknown, where: string): void {
  for (const a of strings(addresses, `${where} addresses`)) {
    const v = ip(a, `${where} nameserver`);
    if (!seed.nameservers.includes(v)) seed.nameservers.push(v);
  }
  for (const d of strings(search, `${where} search`)) {
    if (!DOMAIN_RE.test(d)) bad(where, `search: ${JSON.stringify(d)} is not a domain name`);
    if (!seed.search.includes(d)) seed.search.push(d);
  }
}

const emptyIface = (name: string): GuestInterface => ({ name, ipv4: [], ipv6: [], dhcp4: false });

/** network-config version 2 (netplan form): ethernets with addresses, gateways, routes and nameservers. */
function parseV2(doc: Record<string, unknown>, seed: GuestSeed): void {
  const eths = doc.ethernets ?? {};
  if (!isObject(eths)) bad("network-config", "ethernets: expected a mapping");
  for (const [key, raw] of Object.entries(eths as Record<string, unknown>)) {
    const where = `network-config ethernets.${key}`;
    if (!isObject(raw)) bad(where, "expected a mapping");
    const e = raw as Record<string, unknown>;
    const match = isObject(e.match) ? e.match : {};
    const name = String(e["set-name"] ?? match.name ?? key);
    if (!IFACE_RE.test(name)) bad(where, "expected an interface name");
    const nic = emptyIface(name);
    if (match.macaddress !== undefined) nic.mac = mac(match.macaddress, where);
    for (const a of strings(e.addresses, `${where} addresses`)) {
      const fam = a.includes(":") ? 6 : 4;
      (fam === 4 ? nic.ipv4 : nic.ipv6).push(cidr(a, where, fam));
    }
    if (e.gateway4 !== undefined) nic.gateway4 = ip(e.gateway4, `${where} gateway4`, 4);
    if (e.gateway6 !== undefined) nic.gateway6 = ip(e.gateway6, `${where} gateway6`, 6);
    for (const r of Array.isArray(e.routes) ? e.routes : []) {
      if (!isObject(r)) continue;
      const to = String(r.to ?? "");
      if (["default", "0.0.0.0/0"].includes(to) && r.via !== undefined && !isIPv6(String(r.via)))
        nic.gateway4 = ip(r.via, `${where} routes`, 4);
      else if (["default", "::/0"].includes(to) && r.via !== undefined && isIPv6(String(r.via)))
        nic.gateway6 = ip(r.via, `${where} routes`, 6);
    }
    nic.dhcp4 = e.dhcp4 === true;
    if (e.dhcp6 === true) nic.auto6 = "dhcp";
    else if (e["accept-ra"] === true) nic.auto6 = "slaac";
    if (isObject(e.nameservers)) dnsInto(seed, e.nameservers.addresses, e.nameservers.search, where);
    seed.interfaces.push(nic);
  }
}

/** network-config version 1 (what Proxmox generates): physical interfaces with subnets, and nameserver entries. */
function parseV1(doc: Record<string, unknown>, seed: GuestSeed): void {
  const config = doc.config ?? [];
  if (!Array.isArray(config)) bad("network-config", "config: expected a list");
  for (const [i, raw] of (config as unknown[]).entries()) {
    const where = `network-config config[${i}]`;
    if (!isObject(raw)) continue;
    if (raw.type === "nameserver") {
      dnsInto(seed, raw.address, raw.search, where);
      continue;
    }
    if (raw.type !== "physical") continue;
    const name = String(raw.name ?? "");
    if (!IFACE_RE.test(name)) bad(where, "name: expected an interface name");
    const nic = emptyIface(name);
    if (raw.mac_address !== undefined) nic.mac = mac(raw.mac_address, where);
    for (const s of Array.isArray(raw.subnets) ? raw.subnets : []) {
      if (!isObject(s)) continue;
      const t = String(s.type);
      if (t === "static") {
        nic.ipv4.push(cidr(s.address, where, 4, s.netmask ?? s.prefix));
        if (s.gateway !== undefined) nic.gateway4 = ip(s.gateway, `${where} gateway`, 4);
      } else if (t === "static6") {
        nic.ipv6.push(cidr(s.address, where, 6, s.prefix));
        if (s.gateway !== undefined) nic.gateway6 = ip(s.gateway, `${where} gateway`, 6);
      } else if (t === "dhcp" || t === "dhcp4") nic.dhcp4 = true;
      else if (t === "dhcp6") nic.auto6 = "dhcp";
      else if (t === "ipv6_slaac") nic.auto6 = "slaac";
      else bad(where, `subnet type ${JSON.stringify(t)} is not supported`);
      dnsInto(seed, s.dns_nameservers, s.dns_search, where);
    }
    seed.interfaces.push(nic);
  }
}

function parseNetwork(text: string, seed: GuestSeed): void {
  let doc = yamlDoc(text, "network-config");
  if (isObject(doc) && isObject(doc.network)) doc = doc.network;
  if (!isObject(doc) || Object.keys(doc).length === 0) return;
  if (doc.version === 2) parseV2(doc, seed);
  else if (doc.version === 1) parseV1(doc, seed);
  else bad("network-config", `version ${JSON.stringify(doc.version)}: expected 1 or 2`);
}

/** Everything the first boot applies, from the seed's files; throws E_INVALID_INPUT naming the bad part. */
export function parseSeed(files: SeedFiles): GuestSeed {
  const meta = parseMeta(files.metaData);
  const seed: GuestSeed = {
    instanceId: meta.instanceId,
    hostname: meta.hostname ?? "localhost",
    users: [],
    files: [],
    interfaces: [],
    nameservers: [],
    search: [],
    ignored: [],
  };
  parseUserData(files.userData, seed);
  if (files.networkConfig) parseNetwork(files.networkConfig, seed);
  return seed;
}
