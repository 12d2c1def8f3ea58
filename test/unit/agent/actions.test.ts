/** Agent action parameter schemas: what each accepts and refuses. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTIONS } from "../../../src/agent/actions/index.ts";
import { codeThrownBy } from "../../helpers/errors.ts";
import { tempDir } from "../../helpers/binary.ts";

/**
 * Every action's validator: valid params pass; each field invalid, a missing or extra key, a
 * wrong type, shell metacharacters, traversal, newline, NUL and symlink escapes are refused.
 */
const { dir: root, cleanup } = tempDir("blockhost-actions-");
const state = join(root, "var/lib/blockhost");
const disk = join(state, "images/disk.qcow2");
const tmpImage = join(root, "tmp/build.img");
const template = join(root, "var/lib/libvirt/blockhost/templates/t.qcow2");
const previousRoot = process.env.BLOCKHOST_ROOT;
const asRoot = process.getuid?.() === 0;

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  mkdirSync(join(state, "images"), { recursive: true });
  mkdirSync(join(root, "tmp"), { recursive: true });
  mkdirSync(join(root, "usr/share/blockhost"), { recursive: true });
  mkdirSync(join(root, "etc/blockhost"), { recursive: true });
  writeFileSync(disk, "qcow");
  writeFileSync(tmpImage, "raw");
  mkdirSync(join(root, "var/lib/libvirt/blockhost/templates"), { recursive: true });
  writeFileSync(template, "qcow");
  writeFileSync(join(root, "var/lib/libvirt/blockhost/templates/open.qcow2"), "qcow");
  chmodSync(join(root, "var/lib/libvirt/blockhost/templates/open.qcow2"), 0o666);
  symlinkSync(template, join(root, "var/lib/libvirt/blockhost/templates/link.qcow2"));
  writeFileSync(join(root, "usr/share/blockhost/pam.conf"), "x");
  writeFileSync(join(root, "etc/blockhost/secret"), "s");
  symlinkSync("/etc/passwd", join(state, "images/escape.qcow2"));
  symlinkSync("disk.qcow2", join(state, "images/inside-link.qcow2"));
  symlinkSync("/etc", join(state, "etc-link"));
  symlinkSync(join(root, "etc/blockhost"), join(root, "tmp/cfg"));
  linkSync(join(root, "etc/blockhost/secret"), join(root, "tmp/hardlinked.img"));
  mkdirSync(join(root, "tmp/open"));
  chmodSync(join(root, "tmp/open"), 0o777);
  writeFileSync(join(root, "tmp/open/disk.img"), "");
  writeFileSync(join(root, "tmp/foreign.img"), "");
  if (asRoot) chownSync(join(root, "tmp/foreign.img"), 12345, 12345);
});
afterAll(() => {
  if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previousRoot;
  cleanup();
});

const parse = (action: string, params: unknown) => ACTIONS.get(action)!.params.parse(params, "params");
const refused = (action: string, params: unknown) => expect(codeThrownBy(() => parse(action, params))).toBe("E_SCHEMA");

interface Case {
  valid: Array<Record<string, unknown>>;
  /** [why, params] pairs that must be refused. */
  invalid: Array<[string, Record<string, unknown>]>;
  /** Keys that may be left out. */
  optional?: string[];
  /** String fields that are file content, not argv or names (shell text is data there). */
  content?: string[];
}

const pubkey = `0x04${"ab".repeat(64)}`;
const WG_PUB = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const ALLOCATION = {
  mode: "broker",
  prefix: "2001:db8:f04:276::100/120",
  gateway: "2001:db8:f04:276::2",
  broker_pubkey: WG_PUB,
  broker_endpoint: "203.0.113.7:51820",
  nft_contract: `0x${"a".repeat(40)}`,
  request_id: 3,
  wg_public_key: WG_PUB,
  allocated_at: "2026-12-01T22:00:00.000Z",
  broker_wallet: `0x${"b".repeat(40)}`,
  requests_contract: `0x${"c".repeat(40)}`,
  broker_id: 1,
  broker_encryption_pubkey: `0x04${"d".repeat(128)}`,
};
const CASES: Record<string, Case> = {
  ping: { valid: [{}], invalid: [] },
  ...Object.fromEntries(
    [
      "qm-start",
      "qm-stop",
      "qm-shutdown",
      "qm-reboot",
      "qm-destroy",
      "qm-template",
      "qm-status",
      "qm-guest-ping",
      "qm-config",
    ].map((a) => [
      a,
      {
        valid: [{ vmid: 100 }, { vmid: 999_999 }, { vmid: 101, node: "pve2" }, { vmid: 101, node: "a".repeat(63) }],
        invalid: [
          ["node with a slash (an API path)", { vmid: 100, node: "pve2/qemu" }],
          ["node with ..", { vmid: 100, node: ".." }],
          ["node ending in -", { vmid: 100, node: "pve-" }],
          ["node of 64 characters", { vmid: 100, node: "a".repeat(64) }],
          ["node with a space", { vmid: 100, node: "pve 2" }],
          ["vmid below 100", { vmid: 99 }],
          ["vmid above 999999", { vmid: 1_000_000 }],
          ["vmid as string", { vmid: "100" }],
          ["fractional vmid", { vmid: 100.5 }],
          ["negative", { vmid: -100 }],
        ],
        optional: ["node"],
      } satisfies Case,
    ]),
  ),
  "qm-create": {
    valid: [
      {
        vmid: 120,
        name: "web-1",
        args: {
          cores: 2,
          memory: "2048",
          scsi0: "local-lvm:32",
          net0: "virtio,bridge=vmbr0",
          ide2: "local-lvm:cloudinit",
          agent: "1",
          ostype: "l26",
        },
      },
      { vmid: 120, name: "a", args: {} },
    ],
    invalid: [
      ["name with underscore", { vmid: 120, name: "web_1", args: {} }],
      ["name inside args", { vmid: 120, name: "a", args: { name: "b" } }],
      ["hookscript (not allowlisted)", { vmid: 120, name: "a", args: { hookscript: "local:snippets/x.sh" } }],
      ["raw qemu args", { vmid: 120, name: "a", args: { args: "-device foo" } }],
      ["import-from host path", { vmid: 120, name: "a", args: { scsi0: "local-lvm:0,import-from=/etc/shadow" } }],
      ["cores 0", { vmid: 120, name: "a", args: { cores: 0 } }],
      ["memory with shell", { vmid: 120, name: "a", args: { memory: "2048; reboot" } }],
      ["value starting with -", { vmid: 120, name: "a", args: { description: "-x" } }],
    ],
  },
  "qm-set": {
    valid: [
      {
        vmid: 100,
        options: {
          cores: 4,
          memory: 4096,
          sockets: 1,
          cpu: "host",
          onboot: 1,
          boot: "order=scsi0",
          serial0: "socket",
          vga: "serial0",
          tags: "blockhost;web",
          description: "Customer VM #3",
          ciuser: "admin",
          searchdomain: "example.org",
        },
      },
      { vmid: 100, options: {}, delete: ["cicustom", "ipconfig1"] },
      {
        vmid: 100,
        options: {
          ipconfig0: "ip=192.168.122.10/24,gw=192.168.122.1",
          ipconfig1: "ip6=2001:db8::10/128,gw6=2001:db8::1",
          nameserver: "1.1.1.1 2606:4700::1111",
          cicustom: "user=local:snippets/blockhost-web-1.yaml",
          net0: "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1",
          agent: "enabled=1,fstrim_cloned_disks=1",
        },
      },
      // What an operator legitimately needs and PVE 8 accepts (checked against the real qm schema).
      {
        vmid: 100,
        options: {
          scsi0: "local_zfs:vm-100-disk-0,ssd=on",
          virtio1: "my.store:32",
          nameserver: "1.1.1.1,8.8.8.8",
          bios: "ovmf",
          efidisk0: "local-lvm:1,efitype=4m,pre-enrolled-keys=1",
        },
      },
      {
        vmid: 100,
        options: {
          ipconfig0: "ip=manual",
          ipconfig2: "ip6=manual",
          net0: "bridge=vmbr0,virtio,mtu=1,queues=0,trunks=10;20-30",
          net1: "model=e1000,macaddr=BC:24:11:00:00:02,bridge=vmbr1",
        },
      },
      {
        vmid: 100,
        options: {
          name: "a".repeat(64),
          onboot: "yes",
          agent: "1,freeze-fs-on-backup=0",
          tags: "web,Prod",
          memory: "current=2048",
          description: "Kunde #3: ä",
        },
      },
      {
        vmid: 100,
        options: {
          cpu: "x86-64-v2-AES,flags=+aes;-pcid",
          boot: "order=scsi30;net31;virtio15;ide3;sata5",
          agent: "enabled=yes,type=virtio",
          scsi1: "local:9001/base-9001-disk-0.qcow2/101/vm-101-disk-0.qcow2",
          cicustom: "user=local:snippets/u.yaml,meta=snip_1:snippets/m.meta",
        },
      },
    ],
    invalid: [
      ["no options", { vmid: 100, options: {} }],
      ["delete of an unknown key", { vmid: 100, options: {}, delete: ["hookscript"] }],
      ["set and delete the same key", { vmid: 100, options: { cores: 1 }, delete: ["cores"] }],
      ["delete as a string", { vmid: 100, options: {}, delete: "cicustom" }],
      ["unknown option", { vmid: 100, options: { hostpci0: "01:00.0" } }],
      ["cicustom pointing at a host path", { vmid: 100, options: { cicustom: "user=/etc/shadow" } }],
      ["cicustom traversal", { vmid: 100, options: { cicustom: "user=local:snippets/../../x" } }],
      ["net0 unknown subkey", { vmid: 100, options: { net0: "virtio,bridge=vmbr0,script=/bin/sh" } }],
      ["net0 bad bridge", { vmid: 100, options: { net0: "virtio,bridge=$(id)" } }],
      ["ipconfig0 bad address", { vmid: 100, options: { ipconfig0: "ip=999.1.1.1/24" } }],
      ["nameserver with newline", { vmid: 100, options: { nameserver: "1.1.1.1\n8.8.8.8" } }],
      ["ciuser shell", { vmid: 100, options: { ciuser: "root;id" } }],
      ["description with newline", { vmid: 100, options: { description: "a\nb" } }],
      ["description with NUL", { vmid: 100, options: { description: "a\0b" } }],
      ["option value object", { vmid: 100, options: { cores: { n: 1 } } }],
      ["duplicate subkey", { vmid: 100, options: { net0: "virtio,bridge=vmbr0,bridge=vmbr1" } }],
      // What PVE 8 refuses (qemu-server / pve-common formats): refused here before qm runs.
      [
        "virtio0 with ssd (virtio has no ssd option)",
        { vmid: 100, options: { virtio0: "local-lvm:vm-100-disk-0,ssd=1" } },
      ],
      ["multicast MAC", { vmid: 100, options: { net0: "virtio=BD:24:11:00:00:01,bridge=vmbr0" } }],
      ["net0 without a model", { vmid: 100, options: { net0: "bridge=vmbr0" } }],
      ["IPv4 prefix under 8", { vmid: 100, options: { ipconfig0: "ip=10.0.0.5/7,gw=10.0.0.1" } }],
      ["IPv6 prefix under 8", { vmid: 100, options: { ipconfig0: "ip6=2001:db8::5/7" } }],
      ["gw without ip", { vmid: 100, options: { ipconfig0: "gw=10.0.0.1" } }],
      ["gw6 without ip6", { vmid: 100, options: { ipconfig0: "ip=10.0.0.5/24,gw6=2001:db8::1" } }],
      ["storage id starting with a digit", { vmid: 100, options: { scsi0: "1local:vm-100-disk-0" } }],
      ["one-character storage id", { vmid: 100, options: { scsi0: "l:vm-100-disk-0" } }],
      ["name a..b", { vmid: 100, options: { name: "a..b" } }],
      ["name a.-b", { vmid: 100, options: { name: "a.-b" } }],
      ["volume path with ..", { vmid: 100, options: { scsi0: "local:9001/../../etc/shadow" } }],
      [
        "sshkeys (a file path for the qm CLI, inert with cicustom user=)",
        { vmid: 100, options: { sshkeys: "ssh-ed25519%20AAAA" } },
      ],
      // N5: what PVE refuses that an earlier allowlist let through (JSONSchema default key, CPUConfig, bootdev).
      ...["yes", "on", "true", "no", "off", "false", "yes,type=virtio"].map(
        (v) =>
          [`agent ${v} (a bare value is 0 or 1 only)`, { vmid: 100, options: { agent: v } }] as [
            string,
            Record<string, unknown>,
          ],
      ),
      ["an unknown cpu type", { vmid: 100, options: { cpu: "foo" } }],
      ["a custom cpu model the agent cannot check", { vmid: 100, options: { cpu: "custom-x" } }],
      ["a cpu flag outside the VM list", { vmid: 100, options: { cpu: "host,flags=+avx2" } }],
      ...["ide9", "scsi31", "sata6", "virtio16", "net32"].map(
        (d) =>
          [`boot device ${d}`, { vmid: 100, options: { boot: `order=${d}` } }] as [string, Record<string, unknown>],
      ),
    ],
    optional: ["delete", "node"],
  },
  "qm-importdisk": {
    valid: [{ vmid: 100, disk_path: disk, storage: "local-lvm" }],
    invalid: [
      ["under <root>/tmp, where any user may leave a file", { vmid: 100, disk_path: tmpImage, storage: "local" }],
      ["outside the confinement", { vmid: 100, disk_path: "/etc/passwd", storage: "local" }],
      ["traversal", { vmid: 100, disk_path: join(state, "images/../../../../etc/passwd"), storage: "local" }],
      ["symlink to outside", { vmid: 100, disk_path: join(state, "images/escape.qcow2"), storage: "local" }],
      ["symlink to inside", { vmid: 100, disk_path: join(state, "images/inside-link.qcow2"), storage: "local" }],
      ["through a symlinked dir", { vmid: 100, disk_path: join(state, "etc-link/passwd"), storage: "local" }],
      ["tmp symlink dir to config", { vmid: 100, disk_path: join(root, "tmp/cfg/secret"), storage: "local" }],
      ["hard link to a secret", { vmid: 100, disk_path: join(root, "tmp/hardlinked.img"), storage: "local" }],
      ["missing file", { vmid: 100, disk_path: join(state, "images/nope.qcow2"), storage: "local" }],
      ["in a world-writable directory", { vmid: 100, disk_path: join(root, "tmp/open/disk.img"), storage: "local" }],
      ...(asRoot
        ? [
            [
              "a file of another user (could be swapped for a symlink)",
              { vmid: 100, disk_path: join(root, "tmp/foreign.img"), storage: "local" },
            ] as [string, Record<string, unknown>],
          ]
        : []),
      ["a directory", { vmid: 100, disk_path: join(state, "images"), storage: "local" }],
      ["relative path", { vmid: 100, disk_path: "images/disk.qcow2", storage: "local" }],
      ["storage starting with a digit", { vmid: 100, disk_path: disk, storage: "1local" }],
      ["storage ending in -", { vmid: 100, disk_path: disk, storage: "local-" }],
    ],
  },
  "pve-cluster-resources": { valid: [{}], invalid: [] },
  // No VM names from the caller: the agent answers for its own VMs only.
  "pve-guest-usage": { valid: [{}], invalid: [["a VMID from the caller", { vmid: 100 }]] },
  "virsh-domstats": { valid: [{}], invalid: [["a domain from the caller", { name: "other" }]] },
  "pve-vmid-free": {
    valid: [{ vmid: 100 }, { vmid: 999_999 }],
    invalid: [
      ["vmid below 100", { vmid: 99 }],
      ["vmid as string", { vmid: "100" }],
    ],
  },
  "qm-clone": {
    valid: [
      { vmid: 9000, newid: 101, name: "web-1" },
      { vmid: 9000, newid: 101, name: "web-1", full: true, storage: "local_zfs" },
      { vmid: 9000, newid: 101, name: "w", full: false },
      { vmid: 9000, newid: 101, name: "a".repeat(64) },
      { vmid: 9000, newid: 101, name: "w", node: "pve1", target: "pve2" },
      { vmid: 9000, newid: 101, name: "w", node: "pve1", target: "pve2", full: true, storage: "san" },
    ],
    invalid: [
      ["name with _", { vmid: 9000, newid: 101, name: "web_1" }],
      ["name ending in -", { vmid: 9000, newid: 101, name: "web-" }],
      ["name ending in .", { vmid: 9000, newid: 101, name: "web." }],
      ["name a..b", { vmid: 9000, newid: 101, name: "a..b" }],
      ["name of 65 characters", { vmid: 9000, newid: 101, name: "a".repeat(65) }],
      ["storage without full", { vmid: 9000, newid: 101, name: "w", storage: "local" }],
      ["same id", { vmid: 9000, newid: 9000, name: "w" }],
      ["newid out of range", { vmid: 9000, newid: 5, name: "w" }],
      ["full as string", { vmid: 9000, newid: 101, name: "w", full: "true" }],
      ["target without node", { vmid: 9000, newid: 101, name: "w", target: "pve2" }],
      ["target with a slash", { vmid: 9000, newid: 101, name: "w", node: "pve1", target: "pve2/x" }],
    ],
    optional: ["full", "storage", "node", "target"],
  },
  "qm-migrate": {
    valid: [
      { vmid: 9002, target: "pve2" },
      { vmid: 9002, node: "pve1", target: "pve2", targetstorage: "local-lvm" },
    ],
    invalid: [
      ["target missing", { vmid: 9002, node: "pve1" }],
      ["target is the node", { vmid: 9002, node: "pve1", target: "pve1" }],
      ["target with a slash", { vmid: 9002, target: "pve2/x" }],
      ["targetstorage with a colon", { vmid: 9002, target: "pve2", targetstorage: "a:b" }],
      ["vmid out of range", { vmid: 5, target: "pve2" }],
    ],
    optional: ["node", "targetstorage"],
  },
  "qm-resize": {
    valid: [
      { vmid: 100, disk: "scsi0", size: "+10G" },
      { vmid: 100, disk: "virtio0", size: "20G" },
      { vmid: 100, disk: "ide2", size: "512M" },
      { vmid: 100, disk: "scsi0", size: "+10.5G" },
      { vmid: 100, disk: "scsi0", size: "0.5T" },
    ],
    invalid: [
      ["zero with decimals", { vmid: 100, disk: "scsi0", size: "0.0G" }],
      ["a dot alone", { vmid: 100, disk: "scsi0", size: "+.G" }],
      ["unknown disk", { vmid: 100, disk: "efidisk0", size: "1G" }],
      ["negative size", { vmid: 100, disk: "scsi0", size: "-1G" }],
      ["zero", { vmid: 100, disk: "scsi0", size: "0" }],
      ["bad unit", { vmid: 100, disk: "scsi0", size: "10X" }],
    ],
  },
  "qm-guest-exec": {
    valid: [
      { vmid: 100, command: ["systemctl", "is-active", "ssh"] },
      { vmid: 100, command: ["sh", "-c", "echo $(hostname); ls"], timeout: 30 },
    ],
    invalid: [
      ["empty command", { vmid: 100, command: [] }],
      ["command as one string", { vmid: 100, command: "ls -la" }],
      ["newline in an argument", { vmid: 100, command: ["echo", "a\nb"] }],
      ["NUL in an argument", { vmid: 100, command: ["echo", "a\0b"] }],
      ["empty argument", { vmid: 100, command: ["echo", ""] }],
      ["non-string argument", { vmid: 100, command: ["echo", 1] }],
      ["timeout 0", { vmid: 100, command: ["true"], timeout: 0 }],
    ],
    optional: ["timeout"],
  },
  "ip6-route-add": routeCase(),
  "ip6-route-del": routeCase(),
  "ip6-addr-add": addrCase(),
  "ip6-addr-del": addrCase(),
  "ndp-proxy-add": ndpCase(),
  "ndp-proxy-del": ndpCase(),
  "ipv6-forwarding-persist": {
    valid: [{ uplink: "eth0", ndpProxy: true }, { uplink: "enp1s0.100" }, {}],
    optional: ["uplink", "ndpProxy"],
    invalid: [
      ["uplink with a slash", { uplink: "eth0/../x" }],
      ["uplink too long", { uplink: "a".repeat(16) }],
      ["ndpProxy as text", { uplink: "eth0", ndpProxy: "yes" }],
    ],
  },
  "wg-broker-key": {
    valid: [{}, { rotate: true }],
    optional: ["rotate"],
    invalid: [["rotate as text", { rotate: "yes" }]],
  },
  "wg-broker-up": {
    valid: [
      { peer_public_key: WG_PUB, endpoint: "203.0.113.7:51820" },
      { peer_public_key: WG_PUB, endpoint: "[2001:db8::1]:51820", keepalive: 0 },
    ],
    optional: ["keepalive"],
    invalid: [
      ["a private-looking key of the wrong length", { peer_public_key: "abc=", endpoint: "203.0.113.7:51820" }],
      ["a key with a flag", { peer_public_key: `--${WG_PUB.slice(2)}`, endpoint: "203.0.113.7:51820" }],
      ["an endpoint by name", { peer_public_key: WG_PUB, endpoint: "broker.example:51820" }],
      ["port 0", { peer_public_key: WG_PUB, endpoint: "203.0.113.7:0" }],
      ["port too big", { peer_public_key: WG_PUB, endpoint: "203.0.113.7:70000" }],
      ["keepalive too long", { peer_public_key: WG_PUB, endpoint: "203.0.113.7:51820", keepalive: 99999 }],
    ],
  },
  "wg-broker-down": { valid: [{}], invalid: [["an interface name", { dev: "eth0" }]] },
  "wg-broker-status": { valid: [{}], invalid: [["an interface name", { dev: "eth0" }]] },
  "broker-allocation-write": {
    valid: [{ allocation: ALLOCATION }, { allocation: { ...ALLOCATION, dns_zone: "broker.example.org" } }],
    invalid: [
      ["a private key field", { allocation: { ...ALLOCATION, wg_private_key: WG_PUB } }],
      ["manual mode", { allocation: { ...ALLOCATION, mode: "manual" } }],
      ["a prefix shorter than /48", { allocation: { ...ALLOCATION, prefix: "2001:db8::/32" } }],
      ["a gateway that is not IPv6", { allocation: { ...ALLOCATION, gateway: "10.0.0.1" } }],
      ["an endpoint with a shell word", { allocation: { ...ALLOCATION, broker_endpoint: "$(id):1" } }],
    ],
  },
  "broker-allocation-delete": { valid: [{}], invalid: [["a path", { file: "/etc/passwd" }]] },
  "tls-install": {
    content: ["cert", "key"],
    valid: [
      {
        cert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        key: "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n",
      },
    ],
    invalid: [
      [
        "a key in the cert field",
        {
          cert: "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n",
          key: "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n",
        },
      ],
      [
        "text around the PEM",
        {
          cert: "x\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
          key: "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n",
        },
      ],
      [
        "an encrypted key",
        {
          cert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
          key: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIGH\n-----END ENCRYPTED PRIVATE KEY-----\n",
        },
      ],
    ],
  },
  "bridge-port-isolate": {
    valid: [{ dev: "tap100i0" }, { dev: "vnet12" }, { dev: "bhv0123456789ab" }, { dev: "fwpr100p0" }],
    invalid: [
      ["bridge itself", { dev: "vmbr0" }],
      ["eth0", { dev: "eth0" }],
      ["tap without index", { dev: "tap100" }],
      ["a port name that is not 12 hex digits", { dev: "bhvXYZ" }],
    ],
  },
  "port-guard-set": {
    valid: [
      { name: "blockhost-001", mac: "52:54:00:00:00:64", ipv4: ["192.168.122.200"], ipv6: ["2001:db8::5"] },
      { name: "blockhost-001", mac: "52:54:00:00:00:64", ipv4: [], ipv6: [] },
    ],
    invalid: [
      ["a MAC outside QEMU's prefix", { name: "a", mac: "02:00:00:00:00:01", ipv4: [], ipv6: [] }],
      [
        "a link-local IPv6 (derived from the MAC)",
        { name: "a", mac: "52:54:00:00:00:64", ipv4: [], ipv6: ["fe80::1"] },
      ],
      ["a multicast IPv6", { name: "a", mac: "52:54:00:00:00:64", ipv4: [], ipv6: ["ff02::1"] }],
      ["an IPv4 CIDR", { name: "a", mac: "52:54:00:00:00:64", ipv4: ["10.0.0.0/8"], ipv6: [] }],
      ["an all-digit name", { name: "123", mac: "52:54:00:00:00:64", ipv4: [], ipv6: [] }],
      ["five IPv4 addresses", { name: "a", mac: "52:54:00:00:00:64", ipv4: Array(5).fill("10.0.0.1"), ipv6: [] }],
    ],
  },
  "port-guard-clear": {
    valid: [{ name: "blockhost-001" }],
    invalid: [
      ["an all-digit name", { name: "123" }],
      ["a path", { name: "../x" }],
    ],
  },
  "port-guard-sync": { valid: [{}], invalid: [["any key", { name: "a" }]] },
  "pve-port-guard-set": {
    valid: [
      { vmid: 100, mac: "BC:24:11:5E:00:01", ipv4: ["192.168.122.200"], ipv6: ["2001:db8::5"] },
      { vmid: 100, mac: "bc:24:11:5e:00:01", ipv4: [], ipv6: [] },
    ],
    invalid: [
      ["a multicast MAC", { vmid: 100, mac: "01:00:5e:00:00:01", ipv4: [], ipv6: [] }],
      ["a VMID below 100", { vmid: 99, mac: "bc:24:11:5e:00:01", ipv4: [], ipv6: [] }],
      ["a link-local IPv6", { vmid: 100, mac: "bc:24:11:5e:00:01", ipv4: [], ipv6: ["fe80::1"] }],
    ],
  },
  "pve-port-guard-clear": {
    valid: [{ vmid: 100 }],
    invalid: [["a VMID as text", { vmid: "100" }]],
  },
  "pve-firewall-write": {
    valid: [
      { vmid: 100, ipv4: ["192.168.122.200"], ipv6: ["2001:db8:42::3"] },
      { vmid: 100, ipv4: ["192.168.122.200"], ipv6: [] },
    ],
    invalid: [
      ["no IPv4 (ipfilter would then drop all of it)", { vmid: 100, ipv4: [], ipv6: [] }],
      ["a VMID below 100", { vmid: 99, ipv4: ["10.0.0.1"], ipv6: [] }],
      ["a CIDR", { vmid: 100, ipv4: ["10.0.0.0/8"], ipv6: [] }],
      ["a line break in an address", { vmid: 100, ipv4: ["10.0.0.1\n[RULES]"], ipv6: [] }],
    ],
  },
  "pve-firewall-delete": {
    valid: [{ vmid: 100 }],
    invalid: [["a VMID as text", { vmid: "100" }]],
  },
  "iptables-open": firewallCase(),
  "iptables-close": firewallCase(),
  "iptables-deny": denyCase(),
  "iptables-undeny": denyCase(),
  "addressbook-add": {
    valid: [
      { name: "hot", address: "0x" + "a".repeat(40), keyfile: join(root, "etc/blockhost/hot.key") },
      { name: "my-friend", address: "0x" + "B".repeat(40) },
    ],
    invalid: [
      ["bad address", { name: "hot", address: "0x123" }],
      ["bad name", { name: "Hot Wallet", address: "0x" + "a".repeat(40) }],
      ["keyfile outside config dir", { name: "hot", address: "0x" + "a".repeat(40), keyfile: "/root/hot.key" }],
      [
        "keyfile not .key",
        { name: "hot", address: "0x" + "a".repeat(40), keyfile: join(root, "etc/blockhost/db.yaml") },
      ],
    ],
    optional: ["keyfile"],
  },
  "addressbook-update": {
    valid: [{ name: "my-friend", address: "0x" + "b".repeat(40) }],
    invalid: [
      ["bad address", { name: "x", address: "0xzz" }],
      ["bad name", { name: "a b", address: "0x" + "b".repeat(40) }],
    ],
  },
  "addressbook-remove": {
    valid: [{ name: "my-friend" }],
    invalid: [
      ["bad name", { name: "A" }],
      ["too long", { name: "a".repeat(65) }],
    ],
  },
  "admin-commands-save": {
    valid: [
      {
        commands: {
          "k3y-7f3a": {
            action: "knock",
            description: "open ssh",
            params: { allowed_ports: [22, 2222], default_duration: 600, proto: "tcp" },
          },
        },
      },
      { commands: {} },
    ],
    invalid: [
      ["an unknown action", { commands: { k: { action: "shell" } } }],
      ["a name with a space", { commands: { "a b": { action: "knock" } } }],
      ["port 0", { commands: { k: { action: "knock", params: { allowed_ports: [0] } } } }],
      ["a duration over an hour", { commands: { k: { action: "knock", params: { default_duration: 3601 } } } }],
      ["proto icmp", { commands: { k: { action: "knock", params: { proto: "icmp" } } } }],
      ["an unknown param", { commands: { k: { action: "knock", params: { command: "id" } } } }],
    ],
  },
  "generate-wallet": {
    valid: [{ name: "hot" }, { name: "fund-2" }],
    invalid: [
      ["denied name admin", { name: "admin" }],
      ["denied name server", { name: "server" }],
      ["denied dev", { name: "dev" }],
      ["denied broker", { name: "broker" }],
      ["uppercase", { name: "Hot" }],
      ["too long", { name: "a".repeat(33) }],
      ["empty", { name: "" }],
    ],
  },
  "addressbook-save": {
    valid: [
      {
        entries: {
          hot: { address: `0x${"a".repeat(40)}`, keyfile: join(root, "etc/blockhost/hot.key") },
          "my-friend": { address: `0x${"B".repeat(40)}` },
        },
      },
      { entries: {} },
    ],
    invalid: [
      ["bad address", { entries: { hot: { address: "0x123" } } }],
      ["bad name", { entries: { "Hot Wallet": { address: `0x${"a".repeat(40)}` } } }],
      [
        "keyfile outside config dir",
        { entries: { hot: { address: `0x${"a".repeat(40)}`, keyfile: "/root/hot.key" } } },
      ],
      [
        "keyfile traversal",
        { entries: { hot: { address: `0x${"a".repeat(40)}`, keyfile: join(root, "etc/blockhost/../../x.key") } } },
      ],
      [
        "keyfile not .key",
        { entries: { hot: { address: `0x${"a".repeat(40)}`, keyfile: join(root, "etc/blockhost/db.yaml") } } },
      ],
      ["entry extra key", { entries: { hot: { address: `0x${"a".repeat(40)}`, key: "0x00" } } }],
    ],
  },
  "config-write": {
    valid: [
      { file: "server.key", content: `${"ab".repeat(32)}\n` },
      { file: "server.pubkey", content: pubkey },
      { file: "https.json", content: '{"hostname":"x"}' },
      {
        file: "db.yaml",
        content: "ip_pool:\n  network: 192.168.122.0/24\n  start: 200\n  end: 250\n  gateway: 192.168.122.1\n",
      },
      { file: "network-mode", content: "broker\n" },
    ],
    invalid: [
      ["file not on the allowlist", { file: "agent.yaml", content: "binaries: {}" }],
      ["traversal", { file: "../../etc/shadow", content: "x" }],
      ["key that is not hex", { file: "deployer.key", content: "not a key" }],
      ["bad JSON", { file: "https.json", content: "{" }],
      ["addressbook failing its schema", { file: "addressbook.json", content: '{"Bad Name":{"address":"0x1"}}' }],
      ["db.yaml failing its schema", { file: "db.yaml", content: "ip_pool: 3\n" }],
      ["content over 1 MiB", { file: "admin-commands.json", content: " ".repeat(1024 * 1024 + 1) }],
      ["NUL in content", { file: "https.json", content: '{"a":"\0"}' }],
    ],
    content: ["content"],
  },
  "cloudinit-write": {
    valid: [
      { name: "web-1", content: "#cloud-config\nusers: []\n", storage: "snip_1.a", instance_id: "blockhost-101" },
      { name: "web-1", content: "#cloud-config\nusers: []\n" },
    ],
    optional: ["storage", "instance_id"],
    invalid: [
      [
        "instance id with a newline (YAML injection)",
        { name: "web-1", content: "#cloud-config\n", instance_id: "a\nb: c" },
      ],
      ["instance id with a colon", { name: "web-1", content: "#cloud-config\n", instance_id: "a: b" }],
      ["storage starting with a digit", { name: "web-1", content: "#cloud-config\n", storage: "1x" }],
      ["no #cloud-config header", { name: "web-1", content: "#!/bin/sh\nreboot\n" }],
      ["name with slash", { name: "a/b", content: "#cloud-config\n" }],
      ["over 256 KiB", { name: "a", content: `#cloud-config\n${"x".repeat(256 * 1024)}` }],
    ],
    content: ["content"],
  },
  "cloudinit-delete": {
    valid: [{ name: "web-1", storage: "local" }, { name: "web-1" }],
    optional: ["storage"],
    invalid: [
      ["name with slash", { name: "../x" }],
      ["storage with slash", { name: "web-1", storage: "a/b" }],
    ],
  },
  "tls-self-signed": {
    valid: [{ hostname: "vms.example.org" }, { hostname: "203.0.113.7" }, { hostname: "2001:db8::2" }],
    invalid: [
      ["underscore", { hostname: "a_b.example" }],
      ["slash", { hostname: "a/b" }],
      ["empty", { hostname: "" }],
      ["over 253 chars", { hostname: "a".repeat(254) }],
    ],
  },
  "service-enable": {
    valid: [
      { units: ["blockhost-engine.service"] },
      { units: ["blockhost-engine.service", "blockhost-serve.service", "blockhost-gc.timer"] },
    ],
    invalid: [
      ["a unit not on the list", { units: ["ssh.service"] }],
      ["no unit", { units: [] }],
      ["a bare name", { units: ["blockhost-engine"] }],
      [
        "four units",
        { units: ["blockhost-gc.timer", "blockhost-gc.timer", "blockhost-gc.timer", "blockhost-gc.timer"] },
      ],
    ],
  },
  "setup-complete": { valid: [{}], invalid: [] },
  ...Object.fromEntries(
    [
      "virsh-start",
      "virsh-shutdown",
      "virsh-reboot",
      "virsh-destroy",
      "virsh-undefine",
      "virsh-domstate",
      "virsh-domiflist",
      "virsh-guest-ping",
      "libvirt-vm-files-delete",
    ].map((a) => [
      a,
      {
        valid: [{ name: "blockhost-001" }, { name: "web_1.a" }],
        invalid: [
          ["an all-digit name (virsh reads it as a domain id)", { name: "123" }],
          ["name with slash", { name: "a/b" }],
          ["too long", { name: "a".repeat(65) }],
          ["empty", { name: "" }],
        ],
      } satisfies Case,
    ]),
  ),
  "qemu-img-overlay": {
    valid: [{ name: "blockhost-001", template, size_gb: 20 }],
    invalid: [
      ["a template outside the templates dir", { name: "a", template: disk, size_gb: 20 }],
      [
        "a template that is a symlink",
        { name: "a", template: join(root, "var/lib/libvirt/blockhost/templates/link.qcow2"), size_gb: 20 },
      ],
      [
        "a world-writable template",
        { name: "a", template: join(root, "var/lib/libvirt/blockhost/templates/open.qcow2"), size_gb: 20 },
      ],
      ["size 0", { name: "a", template, size_gb: 0 }],
      ["size as string", { name: "a", template, size_gb: "20G" }],
    ],
  },
  "seed-iso-write": {
    valid: [
      {
        name: "blockhost-001",
        instance_id: "blockhost-001-100",
        user_data: "#cloud-config\nusers: []\n",
        network_config: "version: 2\nethernets: {}\n",
      },
    ],
    invalid: [
      [
        "user-data without #cloud-config",
        { name: "a", instance_id: "i", user_data: "#!/bin/sh\nreboot\n", network_config: "version: 2\n" },
      ],
      [
        "network-config of another version",
        { name: "a", instance_id: "i", user_data: "#cloud-config\n", network_config: "version: 1\n" },
      ],
      [
        "network-config with control bytes",
        { name: "a", instance_id: "i", user_data: "#cloud-config\n", network_config: "version: 2\n\u001b[2J" },
      ],
      [
        "instance id with a space",
        { name: "a", instance_id: "a b", user_data: "#cloud-config\n", network_config: "version: 2\n" },
      ],
    ],
    content: ["user_data", "network_config"],
  },
  "virsh-define": {
    valid: [
      {
        name: "blockhost-001",
        template,
        memory_mb: 2048,
        vcpus: 1,
        mac: "52:54:00:00:00:64",
        network: "blockhost",
        accel: "auto",
      },
      {
        name: "blockhost-001",
        template,
        memory_mb: 512,
        vcpus: 4,
        mac: "52:54:00:0a:0b:0c",
        bridge: "br0",
        accel: "tcg",
      },
    ],
    invalid: [
      [
        "both network and bridge",
        {
          name: "a",
          template,
          memory_mb: 512,
          vcpus: 1,
          mac: "52:54:00:00:00:01",
          network: "n",
          bridge: "br0",
          accel: "auto",
        },
      ],
      [
        "neither network nor bridge",
        { name: "a", template, memory_mb: 512, vcpus: 1, mac: "52:54:00:00:00:01", accel: "auto" },
      ],
      [
        "a MAC outside 52:54:00",
        { name: "a", template, memory_mb: 512, vcpus: 1, mac: "02:00:00:00:00:01", network: "n", accel: "auto" },
      ],
      [
        "an uppercase MAC",
        { name: "a", template, memory_mb: 512, vcpus: 1, mac: "52:54:00:AA:00:01", network: "n", accel: "auto" },
      ],
      [
        "XML in the network name",
        {
          name: "a",
          template,
          memory_mb: 512,
          vcpus: 1,
          mac: "52:54:00:00:00:01",
          network: "n'/><disk",
          accel: "auto",
        },
      ],
      [
        "an unknown accelerator",
        { name: "a", template, memory_mb: 512, vcpus: 1, mac: "52:54:00:00:00:01", network: "n", accel: "xen" },
      ],
      [
        "memory below 128 MiB",
        { name: "a", template, memory_mb: 64, vcpus: 1, mac: "52:54:00:00:00:01", network: "n", accel: "auto" },
      ],
      [
        "0 vcpus",
        { name: "a", template, memory_mb: 512, vcpus: 0, mac: "52:54:00:00:00:01", network: "n", accel: "auto" },
      ],
    ],
    optional: ["network", "bridge"],
  },
  "libvirt-host-check": {
    valid: [{ bridge: "br0" }, { bridge: "bhbr0", network: "blockhost" }],
    invalid: [
      ["a bridge name with a slash", { bridge: "br0/x" }],
      ["a network with XML", { bridge: "br0", network: "a'b" }],
    ],
    optional: ["network"],
  },
  "virsh-guest-exec": {
    valid: [
      { name: "blockhost-001", command: ["/usr/sbin/usermod", "-c", "wallet=0xab", "admin"] },
      { name: "a1", command: ["sh", "-c", "echo $(hostname)"], timeout: 30 },
    ],
    invalid: [
      ["empty command", { name: "a", command: [] }],
      ["command as one string", { name: "a", command: "ls -la" }],
      ["newline in an argument", { name: "a", command: ["echo", "a\nb"] }],
      ["timeout 0", { name: "a", command: ["id"], timeout: 0 }],
    ],
    optional: ["timeout"],
  },
};

function routeCase(): Case {
  return {
    valid: [
      { address: "2001:db8::5/128", dev: "vmbr0" },
      { address: "2001:db8:1:2::abcd/128", dev: "tap101i0" },
      { address: "fd00::1/128", dev: "br-ext" },
    ],
    invalid: [
      ["not /128", { address: "2001:db8::/64", dev: "vmbr0" }],
      ["IPv4", { address: "10.0.0.1/128", dev: "vmbr0" }],
      ["no prefix", { address: "2001:db8::5", dev: "vmbr0" }],
      ["bad IPv6", { address: "2001:db8:::5/128", dev: "vmbr0" }],
      ["dev not allowed", { address: "2001:db8::5/128", dev: "eth0" }],
      ["dev lo", { address: "2001:db8::5/128", dev: "lo" }],
    ],
  };
}

function firewallCase(): Case {
  return {
    valid: [
      { port: 22, proto: "tcp", comment: "admin-knock" },
      { port: 65535, comment: "x" },
      { port: 443, proto: "udp", comment: "k", source: "203.0.113.7" },
      { port: 22, comment: "k", source: "10.0.0.0/8" },
      { port: 22, comment: "k", source: "2001:db8::/32" },
    ],
    invalid: [
      ["port 0", { port: 0, comment: "x" }],
      ["port 65536", { port: 65536, comment: "x" }],
      ["port as string", { port: "22", comment: "x" }],
      ["proto icmp", { port: 22, proto: "icmp", comment: "x" }],
      ["comment with space", { port: 22, comment: "a b" }],
      ["source hostname", { port: 22, comment: "x", source: "example.com" }],
      ["source bad prefix", { port: 22, comment: "x", source: "10.0.0.0/33" }],
    ],
    optional: ["proto", "source"],
  };
}

function addrCase(): Case {
  return {
    valid: [
      { address: "2001:db8:1::1/128", dev: "vmbr0" },
      { address: "2001:db8:1::2/128", dev: "lo" },
      { address: "2001:db8::1/64", dev: "wg-broker" },
    ],
    invalid: [
      ["a /32", { address: "2001:db8::1/32", dev: "vmbr0" }],
      ["no length", { address: "2001:db8::1", dev: "vmbr0" }],
      ["IPv4", { address: "10.0.0.1/128", dev: "vmbr0" }],
      ["an uplink device", { address: "2001:db8::1/128", dev: "eth0" }],
    ],
  };
}

function ndpCase(): Case {
  return {
    valid: [
      { address: "2001:db8:1::10", dev: "eth0" },
      { address: "2001:db8::a", dev: "enp1s0" },
    ],
    invalid: [
      ["a /128 suffix", { address: "2001:db8::a/128", dev: "eth0" }],
      ["not an address", { address: "2001:db8::zz", dev: "eth0" }],
      ["device with a space", { address: "2001:db8::a", dev: "eth 0" }],
    ],
  };
}

function denyCase(): Case {
  return {
    valid: [{ port: 22, proto: "tcp", family: "ipv4" }, { port: 443 }, { port: 53, proto: "udp", family: "ipv6" }],
    invalid: [
      ["port 0", { port: 0 }],
      ["proto icmp", { port: 22, proto: "icmp" }],
      ["family ipx", { port: 22, family: "ipx" }],
    ],
    optional: ["proto", "family"],
  };
}

const ATTACKS = [
  "; rm -rf /",
  "$(reboot)",
  "`id`",
  "../../../../etc/passwd",
  "a\nb",
  "a\0b",
  "|sh",
  "&& id",
  " x",
  "\t",
];

test("every action in the table has validator cases", () => {
  expect(Object.keys(CASES).sort()).toEqual([...ACTIONS.keys()].sort());
});

for (const [action, c] of Object.entries(CASES)) {
  describe(action, () => {
    test("accepts valid params", () => {
      for (const params of c.valid) expect(() => parse(action, params)).not.toThrow();
    });
    for (const [why, params] of c.invalid) test(`refuses ${why}`, () => refused(action, params));
    test("refuses an extra key and non-object params", () => {
      refused(action, { ...c.valid[0], extra: 1 });
      refused(action, { ...c.valid[0], __proto__x: 1 });
      for (const bad of [null, [], "x", 1]) refused(action, bad);
    });
    const base = c.valid[0]!;
    for (const key of Object.keys(base)) {
      test(`field ${key}: wrong types and absence`, () => {
        for (const wrong of [null, [1], 12.5, { a: 1 }]) refused(action, { ...base, [key]: wrong });
        if (!c.optional?.includes(key)) {
          const { [key]: _gone, ...rest } = base;
          refused(action, rest);
        }
      });
      if (typeof base[key] === "string" && !c.content?.includes(key)) {
        test(`field ${key}: shell metacharacters, traversal, newline, NUL`, () => {
          for (const attack of ATTACKS) {
            refused(action, { ...base, [key]: attack });
            refused(action, { ...base, [key]: `${base[key]}${attack}` });
          }
          // A leading dash would read as an option to the program that gets the value.
          refused(action, { ...base, [key]: "--help" });
        });
      }
    }
  });
}
