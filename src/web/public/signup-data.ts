/** What the signup page's script needs, rendered into the page as JSON (shared by server and browser code). */
import type { Plan, Stablecoin } from "./chain.ts";
import type { PlanSize } from "../../core/config/index.ts";

export interface SignupData {
  chainId: number;
  /** The public RPC for the wallet to add the chain with (never the operator's), or null. */
  rpcUrl: string | null;
  subscriptions: `0x${string}`;
  nft: `0x${string}`;
  stablecoin: Stablecoin | null;
  serverPublicKey: `0x${string}`;
  publicSecret: string;
  /** Block explorer base URL for this chain, or null (devnet, unknown chain). */
  explorer: string | null;
  plans: Array<Plan & { size: PlanSize }>;
  /** The operating systems offered, the default first. */
  os: Array<{ id: string; label: string }>;
}

/** A USD amount from cents: 150 → "1.50". */
export const usd = (cents: number) => (cents / 100).toFixed(2);

/** What a plan sells, in words: "2 vCPU, 4 GiB memory, 40 GB disk". */
export const sizeText = (s: PlanSize) =>
  `${s.cpu} vCPU, ${Number((s.memory_mb / 1024).toFixed(2))} GiB memory, ${s.disk_gb} GB disk`;
