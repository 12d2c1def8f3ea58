/** The `seal` job: write a VM's connection details into its NFT for the current holder (updateUserEncrypted). */
import { DEFAULT_PUBLIC_SECRET } from "../core/config/schemas.ts";
import { encodeFunctionData, recoverMessageAddress, type Hex } from "viem";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { onChain } from "../chain/errors.ts";
import { loadBlockhostConfig } from "../core/config/index.ts";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { decryptWithSignature, utf8 } from "../crypto/symmetric.ts";
import { updateVm, vmForToken } from "../core/state/vms.ts";
import type { EngineContext } from "./context.ts";
import { minterKey, sendFromMinter } from "./minter-tx.ts";
import { credentialOwner, sameAddress } from "./nft.ts";
import { connectionDetails, publicAddress, readPayload, sealConnectionDetails } from "./payload.ts";

/**
 * `payload` is the holder's signature of the public secret, ECIES-encrypted to the server key
 * (the purchase payload format). Sealed only when the signer holds the NFT now, and skipped when
 * the NFT already opens with that signature to the VM's current details.
 */
export async function sealCredential(ctx: EngineContext, tokenId: number, payload: Hex): Promise<void> {
  const vm = vmForToken(ctx.db, tokenId);
  if (!vm) throw new BlockhostError("E_CREDENTIAL_REFUSED", `NFT #${tokenId} has no live VM`);
  const { signature, problem } = readPayload(ctx.serverKey, payload);
  if (!signature) throw new BlockhostError("E_PAYLOAD_INVALID", problem);
  const secret = loadBlockhostConfig().public_secret ?? DEFAULT_PUBLIC_SECRET;
  const signer = await recoverMessageAddress({ message: secret, signature });
  const holder = await credentialOwner(ctx.access, ctx.settings.nft, tokenId);
  if (!holder) throw new BlockhostError("E_CHAIN", `cannot read the holder of NFT #${tokenId}`);
  if (!sameAddress(holder, signer))
    throw new BlockhostError("E_CREDENTIAL_REFUSED", `the signer ${signer} does not hold NFT #${tokenId}`);
  const host = publicAddress(vm);
  const current = await onChain("read the NFT payload", () =>
    ctx.access.publicClient.readContract({
      address: ctx.settings.nft,
      abi: accessCredentialNftAbi,
      functionName: "getUserEncrypted",
      args: [BigInt(tokenId)],
    }),
  );
  if (current !== "0x") {
    try {
      if (utf8(decryptWithSignature(signature, current)) === connectionDetails(host, vm.username)) return;
    } catch {
      // Sealed for someone else (a previous holder) or empty: seal it for this holder.
    }
  }
  const data = encodeFunctionData({
    abi: accessCredentialNftAbi,
    functionName: "updateUserEncrypted",
    args: [BigInt(tokenId), sealConnectionDetails(signature, host, vm.username)],
  });
  // From the minting key beside the mints in flight: the same nonce manager (idempotent: re-checked above on retry).
  const { transactionHash: hash } = await sendFromMinter(
    minterKey(ctx),
    { to: ctx.settings.nft, data },
    `seal NFT #${tokenId}`,
    "seal",
  );
  const { credential_problem: _, ...extra } = vm.extra;
  updateVm(ctx.db, vm.vm_name, { extra: { ...extra, credential_sealed_for: holder } });
  logEvent("engine.credential_sealed", { vm: vm.vm_name, token_id: tokenId, holder, tx: hash });
}
