/** What the signup page's script needs, rendered into the page as JSON (shared by server and browser code). */
import type { Plan, Stablecoin } from "./chain.ts";

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
  plans: Plan[];
}

/** A USD amount from cents: 150 → "1.50". */
export const usd = (cents: number) => (cents / 100).toFixed(2);
