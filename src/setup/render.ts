/** The runtime config files finalization writes (seed formats), rendered from the setup file and step results. */
import { stringify } from "yaml";
import { paths } from "../core/paths.ts";
import { resultOf, type SetupContext } from "./context.ts";
import { backendName, type SetupFile } from "./schema.ts";

const yaml = (data: unknown) => stringify(data, { lineWidth: 0 });

export function renderWeb3Defaults(ctx: SetupContext): string {
  const keys = resultOf(ctx, "keypair");
  const contracts = resultOf(ctx, "contracts");
  const c = ctx.file.chain;
  return yaml({
    blockchain: {
      chain_id: c.chain_id,
      rpc_url: c.rpc_url,
      ...(c.public_rpc_url ? { public_rpc_url: c.public_rpc_url } : {}),
      nft_contract: contracts.nft,
      subscription_contract: contracts.subscriptions,
      usdc_address: ctx.stablecoin,
      server_public_key: keys.public_key,
      ...(c.confirmations !== undefined ? { confirmations: c.confirmations } : {}),
    },
    deployer: { private_key_file: paths.deployerKey },
    server: { public_key: keys.public_key },
    auth: { otp_length: 6, otp_ttl_seconds: 300 },
  });
}

/** blockhost.yaml; `plans:` appears once the plan step knows its plan id. */
export function renderBlockhostYaml(ctx: SetupContext, planId = resultOf(ctx, "plan").plan_id): string {
  const f = ctx.file;
  const keys = resultOf(ctx, "keypair");
  const wallet = resultOf(ctx, "wallet");
  const contracts = resultOf(ctx, "contracts");
  const backend = f.backend;
  return yaml({
    server: { address: wallet.address, key_file: paths.serverKey },
    deployer: { key_file: paths.deployerKey },
    server_public_key: keys.public_key,
    public_secret: f.admin.public_secret,
    contract_address: contracts.subscriptions,
    backend: backendName(backend),
    ...(backend !== "dry-run" && "proxmox" in backend ? { proxmox: engineProxmox(backend.proxmox) } : {}),
    ...(backend !== "dry-run" && "libvirt" in backend ? { libvirt: backend.libvirt } : {}),
    admin: {
      wallet_address: f.admin.wallet,
      credential_nft_id: 0,
      max_command_age: 300,
      ...(f.admin_commands !== "none" ? { destination_mode: "self" } : {}),
    },
    ...(f.engine ? { engine: f.engine } : {}),
    ...(typeof planId === "number"
      ? { plans: { [String(planId)]: { cpu: f.plan.cpu, memory_mb: f.plan.memory_mb, disk_gb: f.plan.disk_gb } } }
      : {}),
  });
}

/** blockhost.yaml's proxmox section: the setup file's, without the image only the template step reads; a cluster strategy becomes `cluster:`. */
function engineProxmox(px: Extract<SetupFile["backend"], { proxmox: unknown }>["proxmox"]) {
  const { template_image: _image, cluster_strategy: strategy, ...engine } = px;
  return strategy ? { ...engine, cluster: { strategy } } : engine;
}

export function renderDbYaml(ctx: SetupContext): string {
  const n = ctx.file.network;
  const backend = ctx.file.backend;
  const libvirt = backend !== "dry-run" && "libvirt" in backend ? backend.libvirt : undefined;
  const proxmox = backend !== "dry-run" && "proxmox" in backend ? backend.proxmox : undefined;
  return yaml({
    ...(libvirt ? { bridge: libvirt.bridge } : {}),
    ...(proxmox ? { bridge: proxmox.bridge } : {}),
    vmid_range: n.vmid_range ?? { start: 100, end: 999 },
    ip_pool: n.ipv4,
    // The prefix itself (manual or broker) has one home, broker-allocation.json, which the ipv6 step
    // writes; ipv6_pool.prefix is only read as a fallback for hosts set up before that.
    ...(n.ipv6 !== "none" && "manual" in n.ipv6 && n.ipv6.ndp_proxy
      ? { ipv6_pool: { ndp_proxy_dev: n.ipv6.uplink } }
      : {}),
    default_expiry_days: 30,
    gc_grace_days: n.gc_grace_days,
  });
}
