/** The setup file `blockhost dev` (and the tests) hand to `finalize`: a host on a devnet, dry-run unless a backend is given. */
import { DEFAULT_PUBLIC_SECRET } from "../core/config/schemas.ts";
import { chmodSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";

export interface DevSetupOptions {
  rpcUrl: string;
  chainId: number;
  adminWallet: string;
  signatureFile: string;
  deployerKeyFile: string;
  stablecoin: string;
  /** https.hostname (default 127.0.0.1: a devnet host is reached on loopback). */
  hostname?: string;
  /** The setup file's `backend` and the VM subnet for `network.ipv4` (default: dry-run on 192.168.122.0/24). */
  backend?: DevBackend;
}

/** The hypervisor part of a dev host: the setup file's `backend` value and the VM subnet. */
export interface DevBackend {
  backend:
    | "dry-run"
    | { libvirt: { bridge: string; network?: string; template?: string; accel?: "auto" | "kvm" | "tcg" } };
  network: string;
  gateway: string;
}
export const DRY_RUN: DevBackend = { backend: "dry-run", network: "192.168.122.0/24", gateway: "192.168.122.1" };

export function devSetupFile(o: DevSetupOptions): Record<string, unknown> {
  const b = o.backend ?? DRY_RUN;
  return {
    admin: { wallet: o.adminWallet, public_secret: DEFAULT_PUBLIC_SECRET, signature_file: o.signatureFile },
    chain: {
      chain_id: o.chainId,
      rpc_url: o.rpcUrl,
      deployer_key_file: o.deployerKeyFile,
      contracts: "deploy",
      stablecoin: o.stablecoin,
      confirmations: 0,
    },
    plan: { name: "Basic", price_cents_per_day: 100, cpu: 1, memory_mb: 2048, disk_gb: 20 },
    revenue_share: { enabled: false },
    backend: b.backend,
    network: { ipv4: { network: b.network, start: 200, end: 250, gateway: b.gateway }, ipv6: "none" },
    https: { hostname: o.hostname ?? "127.0.0.1" },
    admin_commands: "none",
    engine: { poll_interval_ms: 500, reconcile_interval_s: 30 },
  };
}

/** Write a setup file as finalize demands: YAML, mode 0600. */
export function writeSetupFile(file: string, data: Record<string, unknown>): void {
  writeFileSync(file, stringify(data), { mode: 0o600 });
  chmodSync(file, 0o600);
}
