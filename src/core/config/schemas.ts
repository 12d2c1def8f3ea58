/** Schemas of the config files under /etc/blockhost. */
import {
  array,
  bool,
  int,
  literal,
  object,
  optional,
  record,
  refine,
  str,
  union,
  withDefault,
  type Infer,
  type Schema,
} from "../schema.ts";
import { publicRpcUrl, secureRpc } from "./rpc-url.ts";
import {
  evmAddress,
  ifaceName,
  ipAddress,
  ipv4,
  ipv4Cidr,
  ipv6Prefix,
  pveNode,
  storageId,
  VMID_MAX,
  VMID_MIN,
} from "../validators.ts";
import { OS_IDS } from "../template/os.ts";

const absPath = str(/^\/[A-Za-z0-9._/-]{0,4095}$/, "an absolute path", 4096);
const anyScalar: Schema<unknown> = { describe: "a value", parse: (v) => v };
const rpcUrl = str(
  /^(https?|wss?):\/\/[A-Za-z0-9.\-_:[\]@%]+(\/[A-Za-z0-9._~\-/%?=&+]*)?$/,
  "an http(s) or ws(s) URL",
  2048,
);
const pubkeyHex = str(/^(0x)?04[0-9a-fA-F]{128}$/, "an uncompressed secp256k1 public key (0x04… hex)", 132);
/** ip_pool start/end: a last-octet integer (the original's form) or a full IPv4 address. */
const poolBound = union<number | string>("an integer host number or an IPv4 address", int(0, 16_777_215), ipv4);

/** An IPv4 pool: the network, the hosts handed out (start..end) and the gateway VMs use. */
const ipv4PoolFields = { network: ipv4Cidr, start: poolBound, end: poolBound, gateway: ipv4 };

const vmidRange = refine(
  object({ start: int(VMID_MIN, VMID_MAX), end: int(VMID_MIN, VMID_MAX) }),
  `start ≤ end, both in ${VMID_MIN}..${VMID_MAX}`,
  (r) => r.start <= r.end,
);

/** /etc/blockhost/db.yaml — allocation pools and lifecycle timing. */
export const dbConfigSchema = object({
  db_file: optional(absPath),
  terraform_dir: optional(absPath),
  bridge: optional(ifaceName),
  storage_pool: optional(storageId),
  storage_path: optional(absPath),
  vmid_range: withDefault(vmidRange, { start: 100, end: 999 }),
  ip_pool: object({
    ...ipv4PoolFields,
    /** The resolvers written into every VM (IPv4 and/or IPv6); default: the host's own upstream resolvers. */
    nameservers: optional(array(ipAddress, 1, 3)),
  }),
  ipv6_pool: optional(
    object({
      start: optional(int(1, 65_535)),
      end: optional(int(1, 65_535)),
      /** Legacy: read only when broker-allocation.json (the prefix's home since setup writes it there) has none. */
      prefix: optional(ipv6Prefix),
      /** The uplink on which the host answers neighbour discovery for VM addresses (manual prefix, on-link upstream). */
      ndp_proxy_dev: optional(ifaceName),
    }),
  ),
  default_expiry_days: withDefault(int(1, 3650), 30),
  gc_grace_days: withDefault(int(0, 3650), 7),
  fields: optional(record(str(/^[a-z_]{1,64}$/, "a field name"), anyScalar)),
});
export type DbConfig = Infer<typeof dbConfigSchema>;

/** /etc/blockhost/web3-defaults.yaml — chain access and in-VM auth defaults. */
export const web3ConfigSchema = object({
  blockchain: secureRpc(
    object({
      chain_id: int(1, 2 ** 53 - 1),
      /** The host's own RPC (may carry a provider key): never shown to browsers. */
      rpc_url: rpcUrl,
      rpc_urls: optional(array(rpcUrl, 1, 8)),
      /** The RPC browsers are offered when their wallet must add the chain (a public endpoint, no key). */
      public_rpc_url: optional(publicRpcUrl),
      nft_contract: optional(evmAddress),
      subscription_contract: optional(evmAddress),
      usdc_address: optional(evmAddress),
      server_public_key: optional(pubkeyHex),
      confirmations: optional(int(0, 1000)),
    }),
  ),
  deployer: optional(object({ private_key_file: absPath })),
  server: optional(object({ public_key: pubkeyHex })),
  auth: withDefault(
    object({ otp_length: withDefault(int(4, 19), 6), otp_ttl_seconds: withDefault(int(30, 3600), 300) }),
    { otp_length: 6, otp_ttl_seconds: 300 },
  ),
  signing_page: optional(object({ port: optional(int(1, 65_535)), html_path: optional(absPath) })),
  uniswap_v2: optional(record(str(/^[a-z_]{1,64}$/, "a key"), anyScalar)),
});
export type Web3Config = Infer<typeof web3ConfigSchema>;

/** blockhost.yaml `engine:` — tuning of the chain watcher and job queue. */
export const engineSettingsSchema = object({
  poll_interval_ms: optional(int(10, 600_000)),
  reconcile_interval_s: optional(int(1, 86_400)),
  retry_base_ms: optional(int(10, 3_600_000)),
  retry_max_ms: optional(int(10, 86_400_000)),
  start_block: optional(int(0, 2 ** 53 - 1)),
  use_finalized: optional(bool),
  log_chunk_blocks: optional(int(1, 1_000_000)),
  reread_blocks: optional(int(0, 10_000)),
  concurrency: optional(int(1, 1024)),
  chain_concurrency: optional(int(1, 4096)),
  other_concurrency: optional(int(1, 256)),
  rpc_timeout_ms: optional(int(100, 120_000)),
  reprice_after_s: optional(int(1, 3600)),
  stop_grace_ms: optional(int(0, 600_000)),
});

/** blockhost.yaml `plans.<id>`: the VM size a plan sells. */
export const planSizeSchema = object({ cpu: int(1, 64), memory_mb: int(256, 1_048_576), disk_gb: int(1, 65_536) });
export type PlanSize = Infer<typeof planSizeSchema>;
/** The size of a plan blockhost.yaml does not list. */
export const DEFAULT_PLAN_SIZE: PlanSize = { cpu: 1, memory_mb: 2048, disk_gb: 20 };

/** blockhost.yaml `proxmox.cluster.nodes.<node>`: what differs on one node, and its limits. */
const proxmoxNodeSchema = object({
  /** The node's VM storage and bridge when not the `proxmox:` ones. */
  storage: optional(storageId),
  bridge: optional(ifaceName),
  /** The template on this node (a node with only local storage needs its own). */
  template_vmid: optional(int(VMID_MIN, VMID_MAX)),
  /** At most this many BlockHost VMs on the node. */
  max_vms: optional(int(0, 100_000)),
  /** At most this much memory configured for BlockHost VMs on the node. */
  max_memory_mb: optional(int(0, 1 << 30)),
  /** No new VMs here (existing ones keep running and are still served). */
  drain: optional(bool),
  /**
   * This node's own IPv4 pool (its VM bridge is its own network segment): its VMs get addresses
   * here instead of db.yaml's ip_pool, which the nodes without one share.
   */
  ip_pool: optional(object(ipv4PoolFields)),
});
export type ProxmoxNodeSettings = Infer<typeof proxmoxNodeSchema>;

/** blockhost.yaml `proxmox.cluster`: how new VMs are placed across the cluster's nodes. */
export const proxmoxClusterSchema = object({
  /** The node with the most free memory, storage or idle CPU for the plan gets the VM. */
  strategy: withDefault(literal("least_loaded_ram", "least_loaded_disk", "least_loaded_cpu"), "least_loaded_ram"),
  nodes: withDefault(record(pveNode, proxmoxNodeSchema, 64), {}),
});
export type ProxmoxClusterSettings = Infer<typeof proxmoxClusterSchema>;

/** The text the admin signs to prove the admin wallet, and what the engine recovers a credential's signer from. */
export const DEFAULT_PUBLIC_SECRET = "blockhost-access";
/** What a public secret may be (blockhost.yaml, the setup file, the wizard and its backup). */
export const publicSecret = str(/^[\x20-\x7e]{1,256}$/, "printable text ≤256 chars", 256);

/** /etc/blockhost/blockhost.yaml — identity, hypervisor and admin settings. */
export const blockhostConfigSchema = object({
  server: object({ address: optional(evmAddress), key_file: absPath }),
  deployer: optional(object({ key_file: absPath })),
  server_public_key: optional(pubkeyHex),
  public_secret: optional(publicSecret),
  contract_address: optional(evmAddress),
  backend: withDefault(literal("proxmox", "libvirt", "dry-run"), "proxmox"),
  proxmox: optional(
    object({
      node: str(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/, "a Proxmox node name"),
      storage: storageId,
      bridge: ifaceName,
      template_vmid: optional(int(VMID_MIN, VMID_MAX)),
      /** Templates of other OSes by OS id (debian-13: 9002); template_vmid stays the default OS's. */
      template_vmids: optional(record(literal(...OS_IDS), int(VMID_MIN, VMID_MAX), OS_IDS.length)),
      snippet_storage: optional(storageId),
      /** Present on a Proxmox VE cluster: place VMs on every member (docs/operator/cluster.md). */
      cluster: optional(proxmoxClusterSchema),
    }),
  ),
  /** backend: libvirt. The VM NICs join `network` (a libvirt network) or `bridge`; routes point at `bridge`. */
  libvirt: optional(
    object({
      uri: withDefault(str(/^qemu:\/\/\/system$/, "qemu:///system (the system libvirtd)", 20), "qemu:///system"),
      bridge: ifaceName,
      network: optional(str(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,49}$/, "a libvirt network name", 50)),
      template: optional(absPath),
      accel: withDefault(literal("auto", "kvm", "tcg"), "auto"),
      guest_agent_timeout_s: optional(int(10, 3600)),
    }),
  ),
  provisioner: optional(record(str(/^[a-z_]{1,64}$/, "a key"), anyScalar)),
  admin: optional(
    object({
      wallet_address: evmAddress,
      credential_nft_id: optional(int(0, 2 ** 53 - 1)),
      max_command_age: optional(int(1, 86_400)),
      destination_mode: optional(literal("self", "server", "null", "any")),
      /** For destination_mode null: where commands are sent (default 0x…dEaD). */
      destination_address: optional(evmAddress),
      /** Drop new connections to the knocked ports unless a knock rule admits them (see docs/operator/funds-and-admin-commands.md). */
      default_deny: optional(bool),
      /** Where SSH logins are read from for narrowing a knock: auto (auth log, else journal), journal, or a file. */
      login_log: optional(str(/^(auto|journal|\/[A-Za-z0-9._/-]{1,4095})$/, "auto, journal or an absolute path", 4096)),
    }),
  ),
  /** The fund manager; validated in core/config/fund-manager.ts. */
  fund_manager: optional(record(str(/^[a-z_]{1,64}$/, "a key"), anyScalar)),
  /** The chain watcher and job queue; every key has a default (see src/engine/settings.ts). */
  engine: optional(engineSettingsSchema),
  /** Per-VM usage sampling for graphs and traffic quotas (see docs/operator/usage.md). */
  usage: optional(
    object({
      /** Seconds between two readings of every running VM's counters [60]. */
      sample_interval_s: optional(int(10, 3600)),
    }),
  ),
  /** VM size per on-chain plan id; a plan without an entry gets DEFAULT_PLAN_SIZE. */
  plans: optional(record(str(/^[1-9]\d{0,17}$/, "a plan id"), planSizeSchema, 10_000)),
  /** The operating systems customers may choose (at purchase and reinstall); the first is the default. */
  os: optional(array(literal(...OS_IDS), 1, OS_IDS.length)),
  /** The public web front (`blockhost serve`): page title and accent colour. */
  web: optional(
    object({
      title: optional(str(/^[^\p{Cc}<>]{1,80}$/u, "a page title (≤80 characters, no < or >)", 80)),
      accent_color: optional(str(/^#[0-9a-fA-F]{6}$/, "a colour like #627EEA", 7)),
    }),
  ),
  testing: optional(bool),
});
export type BlockhostConfig = Infer<typeof blockhostConfigSchema>;

/** Let's Encrypt's production ACME directory (https.json acme.directory_url may name staging or another CA). */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
const dnsName = str(
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/,
  "a DNS name like vms.example.org",
  253,
);
/** https.json `acme`: serve orders its certificate over ACME (http-01 on the HTTP port) and keeps it renewed. */
export const httpsAcmeSchema = object({
  /** The ACME directory [Let's Encrypt production]. */
  directory_url: withDefault(
    str(/^https:\/\/[A-Za-z0-9.\-_:[\]%]+(\/[A-Za-z0-9._~\-/%]*)?$/, "an https URL", 2048),
    LETS_ENCRYPT_DIRECTORY,
  ),
  /** The name the certificate is for [hostname when it is a DNS name, else the sslip.io name of the address]. */
  domain: optional(dnsName),
  email: optional(str(/^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}$/, "an e-mail address", 320)),
  /** Trust this CA (PEM file) for the ACME server only: a private or test CA. */
  ca_file: optional(absPath),
  /** Fetch the challenge over port 80 before asking the CA (turn off only when the name is not in public DNS). */
  self_check: withDefault(bool, true),
  /** Renew when fewer days than this are left. */
  renew_before_days: withDefault(int(1, 3650), 30),
});
export type HttpsAcmeConfig = Infer<typeof httpsAcmeSchema>;

/** /etc/blockhost/https.json — the certificate `blockhost serve` uses (written by finalize). */
export const httpsConfigSchema = object({
  hostname: str(/^[A-Za-z0-9.:[\]-]{1,253}$/, "a host name or IP address", 253),
  cert_file: absPath,
  key_file: absPath,
  self_signed: withDefault(bool, false),
  acme: optional(httpsAcmeSchema),
});
export type HttpsConfig = Infer<typeof httpsConfigSchema>;
