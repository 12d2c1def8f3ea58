/** Shared allowlist patterns and schemas (names, addresses, VMIDs, interfaces). */
import { isIPv4, isIPv6 } from "node:net";
import { addressProblem, EVM_ADDRESS_RE } from "./address.ts";
import { ipv6PrefixProblem, PREFIX_MAX_BITS, PREFIX_MIN_BITS } from "./ipv6.ts";
import { int, refine, schemaError, str, type Schema } from "./schema.ts";

/** Shared allowlists. The regexes keep the original root agent's, so old clients interoperate. */
export const NAME_RE = /^[a-z0-9-]{1,64}$/;
export const SHORT_NAME_RE = /^[a-z0-9-]{1,32}$/;
/** Proxmox's storage id (pve-storage-id, JSONSchema.pm): a letter first, no trailing `-`/`_`/`.`, any case. */
export const STORAGE_RE = /^[a-zA-Z][a-zA-Z0-9._-]{0,62}[a-zA-Z0-9]$/;
export const COMMENT_RE = /^[a-zA-Z0-9-]{1,64}$/;
export const TAP_DEV_RE = /^tap\d{3,6}i\d{1,2}$/;
export const IFACE_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/;
export const VM_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
/**
 * A name a new VM may get: Proxmox's dns-name (labels of letters, digits and inner `-`, joined
 * by single dots), which is also what a hostname may be; ≤64 characters. VM_NAME_RE stays the
 * wider rule for looking up VMs recorded before (legacy vms.json names with `_`).
 */
export const DNS_NAME_RE =
  /^(?=.{1,64}$)([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
export { EVM_ADDRESS_RE };
export const HEX_KEY_RE = /^(0x)?[0-9a-fA-F]{64}$/;

export const VMID_MIN = 100;
export const VMID_MAX = 999_999;

export const vmid = int(VMID_MIN, VMID_MAX);
export const port = int(1, 65_535);
/** An address; mixed case must be a valid EIP-55 checksum (all-lowercase is accepted unchecked). */
export const evmAddress: Schema<string> = {
  describe: "a 0x-prefixed 20-byte hex address (EIP-55 checksum if mixed case)",
  parse(v, path = "") {
    const problem = addressProblem(v);
    if (problem) throw schemaError(path, evmAddress.describe, problem);
    return v as string;
  },
};
export const vmName = str(VM_NAME_RE, "a VM name (letters, digits, . _ -; starts alphanumeric; ≤64)", 64);
/** A Proxmox node name (pve-node: a hostname label); the cluster API addresses a node's VMs by it. */
export const PVE_NODE_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
export const pveNode = str(PVE_NODE_RE, "a Proxmox node name (letters, digits, inner -; ≤63)", 63);
export const storageId = str(STORAGE_RE, "a storage id (a letter, then letters, digits, - _ .; ends alphanumeric)", 64);
export const dnsVmName = str(
  DNS_NAME_RE,
  "a VM name (DNS labels of letters, digits and inner -, joined by dots; ≤64)",
  64,
);
export const ifaceName = str(IFACE_RE, "a network interface name", 15);

export const ipv4: Schema<string> = refine(str(/^[0-9.]{7,15}$/, "an IPv4 address", 15), "an IPv4 address", isIPv4);
export const ipv6: Schema<string> = refine(
  str(/^[0-9a-fA-F:]{2,39}$/, "an IPv6 address", 39),
  "an IPv6 address",
  isIPv6,
);
export const ipAddress: Schema<string> = refine(
  str(/^[0-9a-fA-F:.]{2,45}$/, "an IPv4 or IPv6 address", 45),
  "an IPv4 or IPv6 address",
  (v) => isIPv4(v) || isIPv6(v),
);

/** `addr/128`, the only route the agent installs for a VM. */
export const ipv6Host128: Schema<string> = refine(
  str(/^[0-9a-fA-F:]{2,39}\/128$/, "an IPv6 address with /128", 44),
  "an IPv6 address with /128",
  (v) => isIPv6(v.slice(0, -4)),
);

/** A routed IPv6 prefix (the rule is core/ipv6.ts `ipv6PrefixProblem`: /48–/120, host bits zero). */
export const ipv6Prefix: Schema<string> = {
  describe: `an IPv6 prefix like 2001:db8:1::/64 (/${PREFIX_MIN_BITS} to /${PREFIX_MAX_BITS}, host bits zero)`,
  parse(v, path = "") {
    if (typeof v !== "string" || v.length > 49) throw schemaError(path, ipv6Prefix.describe);
    const problem = ipv6PrefixProblem(v);
    if (problem) throw schemaError(path, ipv6Prefix.describe, problem);
    return v;
  },
};

/** `addr/len`, len /48 to /128: an address the host gives itself from its prefix (::1/128, ::2/128). */
export const ipv6WithLength: Schema<string> = refine(
  str(/^[0-9a-fA-F:]{2,39}\/\d{2,3}$/, "an IPv6 address with a length like 2001:db8::1/128", 43),
  `an IPv6 address with a length from ${PREFIX_MIN_BITS} to 128`,
  (v) => {
    const [addr, len] = v.split("/") as [string, string];
    return isIPv6(addr) && Number(len) >= PREFIX_MIN_BITS && Number(len) <= 128;
  },
);

/** IPv4 network in CIDR form with host bits clear, e.g. 192.168.122.0/24. */
export const ipv4Cidr: Schema<string> = refine(
  str(/^[0-9.]{7,15}\/\d{1,2}$/, "an IPv4 network like 192.168.122.0/24", 18),
  "an IPv4 network like 192.168.122.0/24 (host bits zero, prefix 8..30)",
  (v) => {
    const [addr, len] = v.split("/") as [string, string];
    const bits = Number(len);
    if (!isIPv4(addr) || bits < 8 || bits > 30) return false;
    const n = ipv4ToInt(addr);
    return (n & hostMask(bits)) === 0;
  },
);

export function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export function hostMask(bits: number): number {
  return 2 ** (32 - bits) - 1;
}
