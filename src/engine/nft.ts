import type { Database } from "bun:sqlite";
import { isAddressEqual, parseAbiItem, type Account, type Hex } from "viem";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import type { ChainAccess } from "../chain/client.ts";
import { onChain } from "../chain/errors.ts";
import { mintCredential } from "../chain/mint.ts";
import { decryptWithSignature, utf8 } from "../crypto/symmetric.ts";
import { connectionDetails } from "./payload.ts";

const MINTED = parseAbiItem("event CredentialMinted(uint256 indexed tokenId, address indexed recipient)");

/**
 * Look on the chain for a credential this engine already minted for this VM (a crash between
 * the mint and recording it): tokens minted to `recipient` since `fromBlock`, not recorded for
 * another VM, whose payload decrypts with the buyer's signature to this VM's details.
 */
export async function findMintedCredential(access: ChainAccess, db: Database, nft: Hex, recipient: Hex, fromBlock: bigint, signature: Hex, hostname: string, username: string): Promise<bigint | null> {
  const logs = await onChain("look for an earlier mint", () => access.publicClient.getLogs({ address: nft, event: MINTED, args: { recipient }, fromBlock, toBlock: "latest" }));
  const wanted = connectionDetails(hostname, username);
  for (const log of logs) {
    const tokenId = log.args.tokenId!;
    if (db.query("SELECT 1 FROM vms WHERE nft_token_id = ? AND nft_minted = 1").get(Number(tokenId))) continue;
    const data = await onChain("read credential", () => access.publicClient.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "getUserEncrypted", args: [tokenId] }));
    try {
      if (utf8(decryptWithSignature(signature, data)) === wanted) return tokenId;
    } catch {
      // Another credential of the same buyer (another VM): not ours.
    }
  }
  return null;
}

/** Mint unless the chain already has it; returns the token id either way. */
export async function ensureCredential(access: ChainAccess, db: Database, minter: Account, nft: Hex, recipient: Hex, fromBlock: bigint, signature: Hex, hostname: string, username: string, seal: () => Hex): Promise<{ tokenId: bigint; minted: boolean }> {
  const existing = await findMintedCredential(access, db, nft, recipient, fromBlock, signature, hostname, username);
  if (existing !== null) return { tokenId: existing, minted: false };
  const r = await mintCredential(access, minter, nft, recipient, seal());
  return { tokenId: r.tokenId, minted: true };
}

/** The current holder of a credential, or null when the call fails (token gone, RPC down). */
export async function credentialOwner(access: ChainAccess, nft: Hex, tokenId: number): Promise<Hex | null> {
  try {
    return await access.publicClient.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "ownerOf", args: [BigInt(tokenId)] });
  } catch {
    return null;
  }
}

export const sameAddress = (a: string | null, b: string | null) => !!a && !!b && isAddressEqual(a as Hex, b as Hex);
