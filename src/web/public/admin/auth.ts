/** Admin sign-in: the holder of NFT #credential_nft_id signs an EIP-4361 message; the right is re-read from the chain on every request. */
import type { Hex } from "viem";
import { holds, WalletLogin } from "../../session/index.ts";
import type { ServeDeps } from "../deps.ts";

/** The admin right belongs to whoever holds the admin NFT now: checked at sign-in and on every request. */
export async function isAdmin(deps: ServeDeps, wallet: string): Promise<boolean> {
  return await holds((id) => deps.chain.ownerOf(id), deps.adminTokenId, wallet as Hex);
}

/** The admin purpose's own nonce store: reveal and customer sign-ins cannot crowd it. */
export function adminLogin(deps: ServeDeps): WalletLogin {
  return new WalletLogin({
    purpose: "admin",
    hostName: deps.hostName,
    chainId: deps.chainId,
    statement: () => `Sign in to the BlockHost admin panel as the holder of admin NFT #${deps.adminTokenId}.`,
    // Only the NFT holder ever needs one; a handful per client is plenty and caps what a flood holds.
    maxPending: 1_000,
    perClient: 4,
  });
}
