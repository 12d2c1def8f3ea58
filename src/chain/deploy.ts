/** Deploy the NFT and subscription contracts. */
import { getAddress, type Account, type Hex } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { walletClientFor, type ChainAccess } from "./client.ts";
import { accessCredentialNftAbi, accessCredentialNftBytecode } from "./contracts/generated/AccessCredentialNFT.ts";
import {
  blockhostSubscriptionsAbi,
  blockhostSubscriptionsBytecode,
} from "./contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "./errors.ts";
import { waitForSuccess } from "./tx.ts";

/** Name and symbol the original deployer used for the credential NFT. */
export const NFT_NAME = "BlockhostAccess";
export const NFT_SYMBOL = "BHA";

export type ContractKind = "nft" | "subscriptions";

export interface Deployed {
  kind: ContractKind;
  address: Hex;
  hash: Hex;
  gasUsed: bigint;
}

/** Deploy one contract signed by `deployer` (who becomes its owner) and wait until it is mined. */
export async function deployContract(
  access: ChainAccess,
  deployer: Account,
  kind: ContractKind,
  nft: { name?: string; symbol?: string } = {},
): Promise<Deployed> {
  const wallet = walletClientFor(access, deployer);
  const doing = `deploy ${kind === "nft" ? "AccessCredentialNFT" : "BlockhostSubscriptions"}`;
  const hash = await onChain(doing, () =>
    kind === "nft"
      ? wallet.deployContract({
          abi: accessCredentialNftAbi,
          bytecode: accessCredentialNftBytecode,
          args: [nft.name ?? NFT_NAME, nft.symbol ?? NFT_SYMBOL],
          account: deployer,
          chain: access.chain,
        })
      : wallet.deployContract({
          abi: blockhostSubscriptionsAbi,
          bytecode: blockhostSubscriptionsBytecode,
          account: deployer,
          chain: access.chain,
        }),
  );
  const receipt = await waitForSuccess(access, hash, doing);
  if (!receipt.contractAddress)
    throw new BlockhostError("E_CHAIN", `${doing}: receipt of ${hash} has no contract address`);
  return { kind, address: getAddress(receipt.contractAddress), hash, gasUsed: receipt.gasUsed };
}

/** Deploy the NFT first, then the subscriptions contract (the order the original used and prints). */
export async function deployAll(
  access: ChainAccess,
  deployer: Account,
  kinds: ContractKind[] = ["nft", "subscriptions"],
): Promise<Deployed[]> {
  const out: Deployed[] = [];
  for (const kind of (["nft", "subscriptions"] as const).filter((k) => kinds.includes(k)))
    out.push(await deployContract(access, deployer, kind));
  return out;
}
