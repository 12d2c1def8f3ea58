/** The setup file `blockhost dev` (and the tests) hand to `finalize`: a dry-run host on a devnet. */
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
}

export function devSetupFile(o: DevSetupOptions): Record<string, unknown> {
  return {
    admin: { wallet: o.adminWallet, public_secret: "blockhost-access", signature_file: o.signatureFile },
    chain: { chain_id: o.chainId, rpc_url: o.rpcUrl, deployer_key_file: o.deployerKeyFile, contracts: "deploy", stablecoin: o.stablecoin, confirmations: 0 },
    plan: { name: "Basic", price_cents_per_day: 100, cpu: 1, memory_mb: 2048, disk_gb: 20 },
    revenue_share: { enabled: false },
    backend: "dry-run",
    network: { ipv4: { network: "192.168.122.0/24", start: 200, end: 250, gateway: "192.168.122.1" }, ipv6: "none" },
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
