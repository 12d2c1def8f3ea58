/** Step `mint_nft`: NFT #0 to the admin, its connection details encrypted with the admin's signature. */
import { encodeFunctionData, isAddressEqual, keccak256, toHex, type Hex } from "viem";
import { accessCredentialNftAbi as abi } from "../../chain/contracts/generated/AccessCredentialNFT.ts";
import { onChain } from "../../chain/errors.ts";
import { tokenIdFromReceipt } from "../../chain/mint.ts";
import { BlockhostError } from "../../core/errors.ts";
import { decryptWithSignature, encryptWithSignature, utf8 } from "../../crypto/symmetric.ts";
import { sendOnce } from "../chain-tx.ts";
import { deployerAccount, resultOf, type SetupContext } from "../context.ts";
import { hostAddress } from "./https.ts";
import type { SetupStep } from "./types.ts";

/** Whether `encrypted` opens with the admin signature to exactly `details`. */
function holds(ctx: SetupContext, encrypted: Hex, details: string): boolean {
  try {
    return utf8(decryptWithSignature(ctx.adminSignature, encrypted)) === details;
  } catch {
    return false;
  }
}

async function ownerOfZero(ctx: SetupContext, nft: Hex): Promise<Hex | undefined> {
  const supply = await onChain("read totalSupply", () =>
    ctx.access.publicClient.readContract({ address: nft, abi, functionName: "totalSupply" }),
  );
  if (supply === 0n) return undefined;
  return await onChain("read ownerOf(0)", () =>
    ctx.access.publicClient.readContract({ address: nft, abi, functionName: "ownerOf", args: [0n] }),
  );
}

export const mintNft: SetupStep = {
  name: "mint_nft",
  title: "admin NFT #0",
  async run(ctx) {
    const nft = resultOf(ctx, "contracts").nft as Hex;
    const admin = ctx.file.admin.wallet as Hex;
    const hostname = (resultOf(ctx, "https").hostname as string | undefined) ?? hostAddress(ctx);
    const details = JSON.stringify({ hostname, port: 22, username: "admin" });
    const owner = await ownerOfZero(ctx, nft);
    if (owner !== undefined && !isAddressEqual(owner, admin)) {
      throw new BlockhostError("E_STATE", `NFT #0 of ${nft} belongs to ${owner}, not the admin ${admin}`);
    }
    if (owner === undefined) {
      const data = encodeFunctionData({
        abi,
        functionName: "mint",
        args: [admin, encryptWithSignature(ctx.adminSignature, details)],
      });
      const receipt = await sendOnce(ctx, "nft0:mint", deployerAccount(), { to: nft, data }, "mint NFT #0");
      const tokenId = tokenIdFromReceipt(receipt, nft);
      if (tokenId !== 0n)
        throw new BlockhostError("E_STATE", `the admin's NFT was minted as #${tokenId}, not #0 (someone minted first)`);
      return { token_id: 0, action: "minted", tx: receipt.transactionHash };
    }
    const current = await onChain("read NFT #0", () =>
      ctx.access.publicClient.readContract({ address: nft, abi, functionName: "getUserEncrypted", args: [0n] }),
    );
    if (holds(ctx, current, details)) return { token_id: 0, action: "unchanged" };
    const data = encodeFunctionData({
      abi,
      functionName: "updateUserEncrypted",
      args: [0n, encryptWithSignature(ctx.adminSignature, details)],
    });
    const receipt = await sendOnce(
      ctx,
      `nft0:update:${keccak256(toHex(details)).slice(2, 18)}`,
      deployerAccount(),
      { to: nft, data },
      "update NFT #0",
    );
    return { token_id: 0, action: "updated", tx: receipt.transactionHash };
  },
};
