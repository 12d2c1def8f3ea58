/** The qm create/set options the agent passes on, each with a value check. */
import { isIPv4, isIPv6 } from "node:net";
import { schemaError, record, str, type Schema } from "../../core/schema.ts";
import { IFACE_RE } from "../../core/validators.ts";

/**
 * The `qm create` / `qm set` options the agent passes on, each with a strict value check.
 * Anything else (hookscript, args, hostpci, import-from, …) could run code or read host files
 * as root, so it is not on the list.
 */
type Check = (value: string) => boolean;

const re = (pattern: RegExp): Check => (v) => pattern.test(v);
const intIn = (min: number, max: number): Check => (v) => /^\d{1,9}$/.test(v) && Number(v) >= min && Number(v) <= max;
const oneOf = (...values: string[]): Check => (v) => values.includes(v);
const ipv4Cidr: Check = (v) => { const [a, l, x] = v.split("/"); return x === undefined && !!a && isIPv4(a) && intIn(1, 32)(l ?? ""); };
const ipv6Cidr: Check = (v) => { const [a, l, x] = v.split("/"); return x === undefined && !!a && isIPv6(a) && intIn(1, 128)(l ?? ""); };
const bit = oneOf("0", "1");
const size = re(/^\d{1,7}(\.\d{1,3})?[KMGT]?$/);

/**
 * A Proxmox property string, `first,key=value,…`: `first` checks the leading item (which may
 * itself be `key=value`), every other item must be an allowlisted key with a valid value.
 */
function propertyString(first: Check | null, keys: Record<string, Check>): Check {
  return (v) => {
    if (v.length > 512) return false;
    const items = v.split(",");
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      if (i === 0 && first) {
        if (!first(item)) return false;
        continue;
      }
      const eq = item.indexOf("=");
      const key = item.slice(0, eq);
      if (eq < 1 || seen.has(key) || !Object.hasOwn(keys, key) || !keys[key]!(item.slice(eq + 1))) return false;
      seen.add(key);
    }
    return true;
  };
}

const volume = re(/^[a-z0-9][a-z0-9-]{0,63}:([a-z0-9][a-z0-9_.-]{0,127}(\/[a-z0-9][a-z0-9_.-]{0,127})?|\d{1,5})$/);
const diskKeys = {
  size,
  discard: oneOf("on", "ignore"),
  ssd: bit,
  iothread: bit,
  cache: oneOf("none", "writeback", "writethrough", "directsync", "unsafe"),
  format: oneOf("raw", "qcow2", "vmdk"),
  backup: bit,
};
const snippet = re(/^[a-z0-9][a-z0-9-]{0,63}:snippets\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
const nicModel = re(/^(virtio|e1000|e1000e|vmxnet3|rtl8139)(=([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2})?$/);

export const QM_OPTION_CHECKS: Readonly<Record<string, Check>> = {
  name: re(/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$/),
  cores: intIn(1, 512),
  sockets: intIn(1, 16),
  memory: intIn(16, 4_194_304),
  balloon: intIn(0, 4_194_304),
  cpu: propertyString(re(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/), { flags: re(/^[+-][a-z0-9_.-]{1,32}(;[+-][a-z0-9_.-]{1,32}){0,31}$/) }),
  ostype: oneOf("l26", "l24", "other", "win10", "win11"),
  machine: re(/^(q35|pc|pc-(i440fx|q35)-\d{1,2}\.\d{1,2})$/),
  bios: oneOf("seabios", "ovmf"),
  scsihw: oneOf("virtio-scsi-pci", "virtio-scsi-single", "lsi", "megasas", "pvscsi"),
  scsi0: propertyString(volume, diskKeys),
  virtio0: propertyString(volume, diskKeys),
  ide2: propertyString((v) => v === "none" || /^[a-z0-9][a-z0-9-]{0,63}:cloudinit$/.test(v), { media: oneOf("cdrom") }),
  boot: re(/^(order=(scsi|virtio|ide|sata|net)\d{1,2}(;(scsi|virtio|ide|sata|net)\d{1,2}){0,7}|[cdn]{1,3})$/),
  serial0: oneOf("socket"),
  vga: propertyString(oneOf("std", "serial0", "virtio", "qxl", "none", "cirrus"), { memory: intIn(4, 512) }),
  agent: propertyString(re(/^([01]|enabled=[01])$/), { fstrim_cloned_disks: bit, type: oneOf("virtio", "isa") }),
  onboot: bit,
  net0: propertyString(nicModel, {
    bridge: re(IFACE_RE), firewall: bit, tag: intIn(1, 4094), rate: re(/^\d{1,5}(\.\d{1,3})?$/), mtu: intIn(576, 65_520), link_down: bit, queues: intIn(1, 64),
  }),
  ipconfig0: propertyString(null, { ip: (v) => v === "dhcp" || ipv4Cidr(v), gw: isIPv4, ip6: (v) => v === "auto" || v === "dhcp" || ipv6Cidr(v), gw6: isIPv6 }),
  ipconfig1: propertyString(null, { ip: (v) => v === "dhcp" || ipv4Cidr(v), gw: isIPv4, ip6: (v) => v === "auto" || v === "dhcp" || ipv6Cidr(v), gw6: isIPv6 }),
  nameserver: (v) => /^[0-9a-fA-F:. ]{2,200}$/.test(v) && v.split(" ").every((a) => isIPv4(a) || isIPv6(a)),
  searchdomain: re(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/),
  ciuser: re(/^[a-z_][a-z0-9_-]{0,31}$/),
  citype: oneOf("nocloud", "configdrive2"),
  cicustom: propertyString(null, { user: snippet, network: snippet, meta: snippet, vendor: snippet }),
  sshkeys: re(/^[A-Za-z0-9%._+=-]{1,16384}$/),
  tags: re(/^[a-z0-9_][a-z0-9_-]{0,31}(;[a-z0-9_][a-z0-9_-]{0,31}){0,15}$/),
  description: re(/^[A-Za-z0-9 _.,:;@()+=/#-]{0,1024}$/),
};

const optionKey = str(/^[a-z][a-z0-9]{1,15}$/, "a qm option name");
const optionValue = str(/^[^\n\r\0]{1,16384}$/, "a qm option value", 16384);

/** `{option: value}` for `qm create`/`qm set`; numbers are accepted for numeric options. */
/** Values may be sent as integers (`{memory: 2048}`); they are passed to qm as their decimal text. */
export const qmOptions: Schema<Record<string, string | number>> = {
  describe: `a map of qm options (${Object.keys(QM_OPTION_CHECKS).join(", ")})`,
  parse(v, path = "") {
    const raw = record(optionKey, { describe: "a string or integer", parse: (x, p = "") => (Number.isSafeInteger(x) ? String(x) : optionValue.parse(x, p)) }, 64).parse(v, path);
    for (const [k, value] of Object.entries(raw)) {
      const at = path ? `${path}.${k}` : k;
      if (!Object.hasOwn(QM_OPTION_CHECKS, k)) throw schemaError(at, `an allowed qm option (${Object.keys(QM_OPTION_CHECKS).join(", ")})`);
      if (value.startsWith("-") || !QM_OPTION_CHECKS[k]!(value)) throw schemaError(at, `a valid value for qm option ${k}`);
    }
    return raw;
  },
};

/** `{cores: 2, memory: "2048"}` → `["--cores", "2", "--memory", "2048"]` in a stable order. */
export function optionArgs(options: Record<string, string | number>): string[] {
  return Object.keys(options).sort().flatMap((k) => [`--${k}`, String(options[k]!)]);
}
