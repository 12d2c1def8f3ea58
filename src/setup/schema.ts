/** The setup file `blockhost finalize --config FILE` reads (and the wizard writes): schema and types. */
import { DEFAULT_PUBLIC_SECRET, engineSettingsSchema, httpsAcmeSchema, publicSecret } from "../core/config/schemas.ts";
import {
  array,
  bool,
  int,
  literal,
  num,
  object,
  optional,
  refine,
  str,
  union,
  withDefault,
  type Infer,
  type Schema,
} from "../core/schema.ts";
import { publicRpcUrl, secureRpc } from "../core/config/rpc-url.ts";
import {
  evmAddress,
  ifaceName,
  ipAddress,
  ipv4,
  ipv4Cidr,
  ipv6Prefix,
  port,
  storageId,
  VMID_MAX,
  VMID_MIN,
} from "../core/validators.ts";

const absPath = str(/^\/[A-Za-z0-9._/+-]{0,4095}$/, "an absolute path", 4096);
const rpcUrl = str(/^https?:\/\/[A-Za-z0-9.\-_:[\]%]+(\/[A-Za-z0-9._~\-/%?=&+]*)?$/, "an http(s) URL", 2048);
const hostName = str(/^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252}[A-Za-z0-9])?$/, "a host name or IP address", 253);
const poolBound = union<number | string>("an integer host number or an IPv4 address", int(0, 16_777_215), ipv4);

const existingContracts = object({ nft: evmAddress, subscriptions: evmAddress });
export const chainSchema = refine(
  secureRpc(
    object({
      chain_id: int(1, 2 ** 53 - 1),
      rpc_url: rpcUrl,
      /** Offered to visitors' wallets (web3-defaults.yaml blockchain.public_rpc_url); never the operator's rpc_url. */
      public_rpc_url: optional(publicRpcUrl),
      deployer_key_file: optional(absPath),
      generate_deployer: optional(bool),
      contracts: union<"deploy" | Infer<typeof existingContracts>>(
        `"deploy" or {nft, subscriptions} addresses`,
        literal("deploy"),
        existingContracts,
      ),
      stablecoin: optional(evmAddress),
      confirmations: optional(int(0, 1000)),
    }),
  ),
  "exactly one of deployer_key_file or generate_deployer: true",
  (c) => (c.deployer_key_file !== undefined) !== (c.generate_deployer === true),
);

const proxmoxBackend = object({
  proxmox: object({
    node: str(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/, "a Proxmox node name"),
    storage: storageId,
    bridge: ifaceName,
    template_vmid: withDefault(int(VMID_MIN, VMID_MAX), 9001),
    /** The image the `template` step imports when the template VMID is free (default: the images dir). */
    template_image: optional(absPath),
    /** On a Proxmox VE cluster: place VMs on every node with this strategy (blockhost.yaml proxmox.cluster). */
    cluster_strategy: optional(literal("least_loaded_ram", "least_loaded_disk", "least_loaded_cpu")),
  }),
});
const libvirtBackend = object({
  libvirt: object({
    /** The host bridge (routes point at it); VM NICs join it unless `network` names a libvirt network. */
    bridge: ifaceName,
    network: optional(str(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,49}$/, "a libvirt network name", 50)),
    /** The template qcow2 (default: the engine's templates dir). */
    template: optional(absPath),
    accel: withDefault(literal("auto", "kvm", "tcg"), "auto"),
  }),
});
export type BackendChoice = "dry-run" | Infer<typeof proxmoxBackend> | Infer<typeof libvirtBackend>;
export const backendSchema: Schema<BackendChoice> = union<BackendChoice>(
  `"dry-run", {proxmox: {node, storage, bridge, template_vmid, template_image}} or {libvirt: {bridge, network, template, accel}}`,
  literal("dry-run"),
  proxmoxBackend,
  libvirtBackend,
);

/** A routed prefix: `uplink` is the upstream interface; `ndp_proxy` answers neighbour discovery on it for VMs. */
const manualIpv6 = refine(
  object({ manual: ipv6Prefix, uplink: optional(ifaceName), ndp_proxy: withDefault(bool, false) }),
  "{manual: <prefix>, uplink, ndp_proxy} with uplink set when ndp_proxy is true",
  (m) => !m.ndp_proxy || m.uplink !== undefined,
);
export type ManualIpv6 = Infer<typeof manualIpv6>;
/** A prefix from the on-chain tunnel broker: the registry, optionally one broker of it, and how long to wait. */
const brokerIpv6 = object({
  broker: object({
    registry: evmAddress,
    broker_id: optional(int(1, 1_000_000)),
    timeout_s: withDefault(int(10, 3600), 300),
  }),
});
export type BrokerIpv6 = Infer<typeof brokerIpv6>;
export const ipv6Schema = union<"none" | ManualIpv6 | BrokerIpv6>(
  `"none", {manual: <prefix>, uplink, ndp_proxy} (ndp_proxy needs uplink) or {broker: {registry, broker_id, timeout_s}}`,
  literal("none"),
  manualIpv6,
  brokerIpv6,
);

/** `admin_commands`: `none`, or one knock command (the original wizard's single generated command). */
export const adminCommandsSchema = union<"none" | { knock_name: string; ports: number[]; duration: number }>(
  `"none" or {knock_name, ports, duration}`,
  literal("none"),
  object({
    knock_name: str(/^[A-Za-z0-9_-]{4,64}$/, "4..64 letters, digits, _ or -", 64),
    ports: withDefault(array(port, 1, 16), [22]),
    duration: withDefault(int(30, 3600), 300),
  }),
);

export const planSchema = object({
  name: str(/^[\x20-\x7e]{1,64}$/, "printable text ≤64 chars", 64),
  price_cents_per_day: int(1, 100_000_000),
  cpu: withDefault(int(1, 64), 1),
  memory_mb: withDefault(int(256, 1_048_576), 2048),
  disk_gb: withDefault(int(1, 65_536), 20),
});
export const revenueShareSchema = object({
  enabled: bool,
  percent: withDefault(num(0, 50), 1),
  dev: optional(evmAddress),
  broker: optional(evmAddress),
});
export const vmidRangeSchema = object({ start: int(VMID_MIN, VMID_MAX), end: int(VMID_MIN, VMID_MAX) });
export const networkSchema = object({
  ipv4: object({
    network: ipv4Cidr,
    start: poolBound,
    end: poolBound,
    gateway: ipv4,
    /** Resolvers written into every VM (db.yaml ip_pool.nameservers); default the host's upstream resolvers. */
    nameservers: optional(array(ipAddress, 1, 3)),
  }),
  ipv6: withDefault(ipv6Schema, "none"),
  vmid_range: optional(vmidRangeSchema),
  gc_grace_days: withDefault(int(0, 3650), 7),
});
/** `https`: the name the certificate names; `acme` (https.json's) has serve order and renew it over ACME. */
export const httpsSchema = object({ hostname: optional(hostName), acme: optional(httpsAcmeSchema) });

export const setupFileSchema = object({
  admin: object({
    wallet: evmAddress,
    public_secret: withDefault(publicSecret, DEFAULT_PUBLIC_SECRET),
    signature_file: absPath,
  }),
  chain: chainSchema,
  plan: planSchema,
  revenue_share: withDefault(revenueShareSchema, { enabled: false, percent: 1 }),
  backend: backendSchema,
  network: networkSchema,
  https: withDefault(httpsSchema, {}),
  admin_commands: withDefault(adminCommandsSchema, "none"),
  /** Passed through to blockhost.yaml `engine:` (e.g. a short poll interval on a devnet). */
  engine: optional(engineSettingsSchema),
});

export type SetupFile = Infer<typeof setupFileSchema>;

/** The backend's name as blockhost.yaml spells it. */
export function backendName(b: BackendChoice): "dry-run" | "proxmox" | "libvirt" {
  return b === "dry-run" ? b : "proxmox" in b ? "proxmox" : "libvirt";
}
