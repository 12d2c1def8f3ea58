/** Mint an access credential and read its token id from the receipt. */
import { isAddressEqual, parseEventLogs, type Account, type Hex, type TransactionReceipt } from "viem";
import { BlockhostError } from "../core/errors.ts";
import type { ChainAccess } from "./client.ts";
import { accessCredentialNftAbi } from "./contracts/generated/AccessCredentialNFT.ts";
import { onChain } from "./errors.ts";
import { writeAndWait } from "./tx.ts";

export interface MintResult {
  tokenId: bigint;
  hash: Hex;
  gasUsed: bigint;
}

/**
 * The token id a mint created, read from the receipt's CredentialMinted event (or, for a
 * contract that lacks it, the ERC721 Transfer from the zero address) — never from totalSupply,
 * which races with other mints.
 */
export function tokenIdFromReceipt(receipt: TransactionReceipt, nft: Hex): bigint {
  const logs = receipt.logs.filter((l) => isAddressEqual(l.address, nft));
  const minted = parseEventLogs({ abi: accessCredentialNftAbi, logs, eventName: "CredentialMinted", strict: true });
  if (minted[0]) return minted[0].args.tokenId;
  const transfers = parseEventLogs({ abi: accessCredentialNftAbi, logs, eventName: "Transfer", strict: true }).filter(
    (t) => /^0x0{40}$/.test(t.args.from),
  );
  if (transfers[0]) return transfers[0].args.tokenId;
  throw new BlockhostError(
    "E_CHAIN",
    `mint transaction ${receipt.transactionHash} emitted no CredentialMinted event from ${nft}`,
  );
}

/** Mint a credential NFT to `to` carrying `userEncrypted`, signed by the NFT owner. */
export async function mintCredential(
  access: ChainAccess,
  owner: Account,
  nft: Hex,
  to: Hex,
  userEncrypted: Hex = "0x",
): Promise<MintResult> {
  const { hash, receipt } = await writeAndWait(
    access,
    owner,
    { address: nft, abi: accessCredentialNftAbi, functionName: "mint", args: [to, userEncrypted] },
    "mint",
  );
  return { tokenId: tokenIdFromReceipt(receipt, nft), hash, gasUsed: receipt.gasUsed };
}

/** What a mint would return now (a simulation; nothing is sent). */
export async function simulateMint(
  access: ChainAccess,
  owner: Account,
  nft: Hex,
  to: Hex,
  userEncrypted: Hex = "0x",
): Promise<bigint> {
  const sim = await onChain("mint (dry run)", () =>
    access.publicClient.simulateContract({
      address: nft,
      abi: accessCredentialNftAbi,
      functionName: "mint",
      args: [to, userEncrypted],
      account: owner,
    }),
  );
  return sim.result;
}

/** A uint256 token id from decimal text, or undefined when it is not one. */
export function parseTokenId(text: string): bigint | undefined {
  if (!/^\d{1,78}$/.test(text)) return undefined;
  const id = BigInt(text);
  return id < 2n ** 256n ? id : undefined;
}
