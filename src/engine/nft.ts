/** Credential reads for the engine: the holder of one NFT, and address comparison. */
import { type Hex, isAddressEqual } from "viem";
import type { ChainAccess } from "../chain/client.ts";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";

/** The current holder of a credential, or null when the call fails (token gone, RPC down). */
export async function credentialOwner(access: ChainAccess, nft: Hex, tokenId: number): Promise<Hex | null> {
  try {
    return await access.publicClient.readContract({
      address: nft,
      abi: accessCredentialNftAbi,
      functionName: "ownerOf",
      args: [BigInt(tokenId)],
    });
  } catch {
    return null;
  }
}

export const sameAddress = (a: string | null, b: string | null) => !!a && !!b && isAddressEqual(a as Hex, b as Hex);
