/** The qm create/set options the agent passes on, each with a value check. */
import { isIPv4, isIPv6 } from "node:net";
import { schemaError, record, str, type Schema } from "../../core/schema.ts";
import { DNS_NAME_RE, IFACE_RE, STORAGE_RE } from "../../core/validators.ts";
import { type Check, intIn, oneOf, propertyString, re } from "./qm-property-string.ts";

/**
 * The `qm create` / `qm set` options the agent passes on, each checked against qemu-server's own
 * format for it (PVE 8: PVE/QemuServer.pm, PVE/QemuServer/Drive.pm, pve-common JSONSchema.pm), so
 * what Proxmox would refuse is refused here, before anything runs. Anything not listed (hookscript,
 * args, hostpci, usb, import-from, sshkeys …) could run code, read host files as root or, like
 * `sshkeys` (a file path for the qm CLI), cannot work through this argv, so it is not on the list.
 */

/** JSONSchema's boolean spellings (parse_boolean). */
const bool: Check = re(/^(1|0|on|off|yes|no|true|false)$/i);
const storage = STORAGE_RE.source.slice(1, -1);
/** pve-volume-id: `storage:volname`, where volname has no `..` step (a linked clone on dir storage has four). */
const volumeName = (v: string) =>
  /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}(\/[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}){0,3}$/.test(v) &&
  !v.split("/").includes("..");
const volumeId: Check = (v) => {
  const m = new RegExp(`^(${storage}):(.+)$`).exec(v);
  return !!m && volumeName(m[2]!);
};
/** A disk's first item: an existing volume, or `storage:SIZE_GiB` (qemu-server's NEW_DISK_RE) to allocate one. */
const diskVolume: Check = (v) => volumeId(v) || new RegExp(`^(${storage}):\\d{1,6}(\\.\\d{1,3})?$`).test(v);
const size = re(/^\d{1,7}(\.\d{1,3})?[KMGT]?$/);
/** Unicast only (pve-mac-addr refuses the I/G bit). */
export const unicastMac = re(/^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/i);
const cidr =
  (isAddr: (a: string) => boolean, max: number): Check =>
  (v) => {
    const [a, l, x] = v.split("/");
    return x === undefined && !!a && isAddr(a) && intIn(8, max)(l ?? "");
  };
/** PVE::Tools::split_list: items separated by `,`, `;` or white space. */
const list =
  (item: Check, max = 16): Check =>
  (v) => {
    const items = v.split(/[,;\s]+/).filter(Boolean);
    return items.length >= 1 && items.length <= max && items.every(item);
  };
const dnsName = re(DNS_NAME_RE);

const commonDiskKeys = {
  size,
  discard: oneOf("on", "ignore"),
  iothread: bool,
  cache: oneOf("none", "writeback", "writethrough", "directsync", "unsafe"),
  format: oneOf("raw", "qcow2", "vmdk"),
  backup: bool,
  replicate: bool,
  aio: oneOf("native", "threads", "io_uring"),
  /** Drive.pm's throttles: integer operations per second, megabytes (MiB) per second as a number. */
  iops: intIn(1, 10_000_000),
  mbps: re(/^\d{1,7}(\.\d{1,3})?$/),
};
/** Drive.pm: `ssd` exists for scsi, sata and ide only (virtio has no %ssd_fmt). */
const scsiLike = propertyString({ defaultKey: "file", keys: { file: diskVolume, ...commonDiskKeys, ssd: bool } });
const virtio = propertyString({ defaultKey: "file", keys: { file: diskVolume, ...commonDiskKeys } });
/** ide: also a cloud-init drive, an ISO (`media=cdrom`) or an empty drive (`none`). */
const ide = propertyString({
  defaultKey: "file",
  keys: {
    file: (v) => v === "none" || v === "cdrom" || diskVolume(v),
    ...commonDiskKeys,
    ssd: bool,
    media: oneOf("cdrom", "disk"),
  },
});
const efidisk = propertyString({
  defaultKey: "file",
  keys: {
    file: diskVolume,
    efitype: oneOf("2m", "4m"),
    "pre-enrolled-keys": bool,
    format: commonDiskKeys.format,
    size,
  },
});

const NIC_MODELS = [
  "virtio",
  "e1000",
  "e1000e",
  "vmxnet3",
  "rtl8139",
  "ne2k_pci",
  "pcnet",
  "i82551",
  "i82557b",
  "i82559er",
];
/** net[n]: `MODEL[=MAC]` (the model names are aliases of macaddr) or `model=…,macaddr=…`, keys in any order. */
const net = propertyString({
  defaultKey: "model",
  keys: {
    model: oneOf(...NIC_MODELS),
    macaddr: unicastMac,
    bridge: re(IFACE_RE),
    firewall: bool,
    link_down: bool,
    tag: intIn(1, 4094),
    trunks: (v) => /^\d{1,4}(-\d{1,4})?(;\d{1,4}(-\d{1,4})?){0,63}$/.test(v) && v.split(/[;-]/).every(intIn(1, 4094)),
    rate: re(/^\d{1,5}(\.\d{1,3})?$/),
    mtu: intIn(1, 65_520),
    queues: intIn(0, 64),
  },
  aliases: Object.fromEntries(NIC_MODELS.map((m) => [m, (mac: string) => ({ model: m, macaddr: mac })])),
  required: ["model"],
});
/** ipconfig[n]: QemuServer.pm's ipconfig format, where `gw` requires `ip` and `gw6` requires `ip6`. */
const ipconfig = propertyString({
  keys: {
    ip: (v) => v === "dhcp" || v === "manual" || cidr(isIPv4, 32)(v),
    gw: isIPv4,
    ip6: (v) => v === "auto" || v === "dhcp" || v === "manual" || cidr(isIPv6, 128)(v),
    gw6: isIPv6,
  },
  requires: { gw: "ip", gw6: "ip6" },
});
const snippet = (v: string) => new RegExp(`^(${storage}):snippets/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`).test(v);

/**
 * PVE 8's built-in CPU models (qemu-server stable-bookworm CPUConfig.pm $cpu_vendor_list), also in
 * PVE 9. `custom-*` models live in the cluster's cpu-models.conf, which the agent does not read: refused.
 */
const CPU_MODELS = (
  "486 pentium pentium2 pentium3 coreduo core2duo Conroe Penryn Nehalem Nehalem-IBRS Westmere Westmere-IBRS " +
  "SandyBridge SandyBridge-IBRS IvyBridge IvyBridge-IBRS Haswell Haswell-IBRS Haswell-noTSX Haswell-noTSX-IBRS " +
  "Broadwell Broadwell-IBRS Broadwell-noTSX Broadwell-noTSX-IBRS Skylake-Client Skylake-Client-IBRS " +
  "Skylake-Client-noTSX-IBRS Skylake-Client-v4 Skylake-Server Skylake-Server-IBRS Skylake-Server-noTSX-IBRS " +
  "Skylake-Server-v4 Skylake-Server-v5 Cascadelake-Server Cascadelake-Server-v2 Cascadelake-Server-noTSX " +
  "Cascadelake-Server-v4 Cascadelake-Server-v5 Cooperlake Cooperlake-v2 KnightsMill Icelake-Client " +
  "Icelake-Client-noTSX Icelake-Server Icelake-Server-noTSX Icelake-Server-v3 Icelake-Server-v4 Icelake-Server-v5 " +
  "Icelake-Server-v6 SapphireRapids SapphireRapids-v2 GraniteRapids athlon phenom Opteron_G1 Opteron_G2 Opteron_G3 " +
  "Opteron_G4 Opteron_G5 EPYC EPYC-IBPB EPYC-v3 EPYC-v4 EPYC-Rome EPYC-Rome-v2 EPYC-Rome-v3 EPYC-Rome-v4 " +
  "EPYC-Milan EPYC-Milan-v2 EPYC-Genoa host kvm32 kvm64 qemu32 qemu64 max x86-64-v2 x86-64-v2-AES x86-64-v3 x86-64-v4"
).split(" ");
/** The flags a VM's own config may set (@supported_cpu_flags, PVE 8; PVE 9 adds nested-virt). */
const CPU_FLAGS = [
  "pcid",
  "spec-ctrl",
  "ibpb",
  "ssbd",
  "virt-ssbd",
  "amd-ssbd",
  "amd-no-ssb",
  "pdpe1gb",
  "md-clear",
  "hv-tlbflush",
  "hv-evmcs",
  "aes",
];
/** pve-qm-bootdev: a drive or NIC that exists in qemu-server (ide0-3, sata0-5, scsi0-30, virtio0-15, net0-31). */
const bootDevice = re(
  /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|net([0-9]|[12][0-9]|3[01]))$/,
);

/** Numbered option families, as many as an operator plausibly needs. */
const family = (prefix: string, count: number, check: Check) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, check]));

export const QM_OPTION_CHECKS: Readonly<Record<string, Check>> = {
  name: dnsName,
  cores: intIn(1, 512),
  sockets: intIn(1, 16),
  memory: (v) => intIn(16, 4_194_304)(v.replace(/^current=/, "")),
  balloon: intIn(0, 4_194_304),
  cpu: propertyString({
    defaultKey: "cputype",
    keys: {
      cputype: oneOf(...CPU_MODELS),
      flags: (v) => v.split(";").every((f) => /^[+-]/.test(f) && CPU_FLAGS.includes(f.slice(1))),
      hidden: bool,
    },
  }),
  ostype: oneOf(
    "other",
    "wxp",
    "w2k",
    "w2k3",
    "w2k8",
    "wvista",
    "win7",
    "win8",
    "win10",
    "win11",
    "l24",
    "l26",
    "solaris",
  ),
  machine: propertyString({
    defaultKey: "type",
    keys: { type: re(/^(pc|q35|pc-(i440fx|q35)-\d{1,2}\.\d{1,2}(\+pve\d{1,2})?)$/), viommu: oneOf("intel", "virtio") },
  }),
  bios: oneOf("seabios", "ovmf"),
  scsihw: oneOf("lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single", "megasas", "pvscsi"),
  ...family("scsi", 4, scsiLike),
  ...family("sata", 4, scsiLike),
  ...family("virtio", 4, virtio),
  ...family("ide", 4, ide),
  efidisk0: efidisk,
  boot: (v) =>
    /^[cdn]{1,3}$/.test(v) ||
    (/^order=/.test(v) && v.slice(6).split(";").length <= 8 && v.slice(6).split(";").every(bootDevice)),
  serial0: oneOf("socket"),
  vga: propertyString({
    defaultKey: "type",
    keys: { type: oneOf("std", "serial0", "virtio", "virtio-gl", "qxl", "none", "cirrus"), memory: intIn(4, 512) },
  }),
  // A bare value is the default key, which pve-common parses as an integer-like 0/1 only (yes/on/true are refused).
  agent: (v) =>
    propertyString({
      defaultKey: "enabled",
      keys: { enabled: bool, fstrim_cloned_disks: bool, "freeze-fs-on-backup": bool, type: oneOf("virtio", "isa") },
    })(v) && v.split(",").every((item) => item.includes("=") || item === "0" || item === "1"),
  onboot: bool,
  ...family("net", 8, net),
  ...family("ipconfig", 8, ipconfig),
  nameserver: list((a) => isIPv4(a) || isIPv6(a), 8),
  searchdomain: list(dnsName, 8),
  ciuser: re(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/),
  citype: oneOf("nocloud", "configdrive2"),
  cicustom: propertyString({ keys: { user: snippet, network: snippet, meta: snippet, vendor: snippet } }),
  tags: list(re(/^[A-Za-z0-9_][A-Za-z0-9_+.-]{0,63}$/), 32),
  /** Free text on one line: any character but the C0 controls and DEL. */
  description: (v) => v.length <= 8192 && ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
};

const optionKey = str(/^[a-z][a-z0-9]{1,15}$/, "a qm option name");
const optionValue = str(/^[^\n\r\0]{1,16384}$/, "a qm option value", 16384);

/** `{option: value}` for `qm create`/`qm set`; numbers are accepted for numeric options. */
/** Values may be sent as integers (`{memory: 2048}`); they are passed to qm as their decimal text. */
export const qmOptions: Schema<Record<string, string | number>> = {
  describe: "a map of allowlisted qm options (see the agent action catalog)",
  parse(v, path = "") {
    const raw = record(
      optionKey,
      {
        describe: "a string or integer",
        parse: (x, p = "") => (Number.isSafeInteger(x) ? String(x) : optionValue.parse(x, p)),
      },
      64,
    ).parse(v, path);
    for (const [k, value] of Object.entries(raw)) {
      const at = path ? `${path}.${k}` : k;
      if (!Object.hasOwn(QM_OPTION_CHECKS, k))
        throw schemaError(at, "an allowed qm option (see the agent action catalog)");
      if (value.startsWith("-") || !QM_OPTION_CHECKS[k]!(value))
        throw schemaError(at, `a value Proxmox accepts for qm option ${k}`);
    }
    return raw;
  },
};

/** `{cores: 2, memory: "2048"}` → `["--cores", "2", "--memory", "2048"]` in a stable order. */
export function optionArgs(options: Record<string, string | number>): string[] {
  return Object.keys(options)
    .sort()
    .flatMap((k) => [`--${k}`, String(options[k]!)]);
}
