/** Step `contracts`: deploy AccessCredentialNFT and BlockhostSubscriptions once, or verify existing ones. */
import { encodeDeployData, getAddress, type Hex } from "viem";
import {
  accessCredentialNftAbi,
  accessCredentialNftBytecode,
} from "../../chain/contracts/generated/AccessCredentialNFT.ts";
import {
  blockhostSubscriptionsAbi,
  blockhostSubscriptionsBytecode,
} from "../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { NFT_NAME, NFT_SYMBOL } from "../../chain/deploy.ts";
import { onChain } from "../../chain/errors.ts";
import { BlockhostError } from "../../core/errors.ts";
import { sendOnce } from "../chain-tx.ts";
import { deployerAccount, type SetupContext } from "../context.ts";
import type { SetupStep } from "./types.ts";

const DEPLOY_DATA = {
  nft: () =>
    encodeDeployData({
      abi: accessCredentialNftAbi,
      bytecode: accessCredentialNftBytecode,
      args: [NFT_NAME, NFT_SYMBOL],
    }),
  subscriptions: () => encodeDeployData({ abi: blockhostSubscriptionsAbi, bytecode: blockhostSubscriptionsBytecode }),
};

async function hasCode(ctx: SetupContext, address: Hex): Promise<boolean> {
  const code = await onChain(`read code at ${address}`, () => ctx.access.publicClient.getCode({ address }));
  return code !== undefined && code !== "0x";
}

async function deploy(ctx: SetupContext, kind: keyof typeof DEPLOY_DATA): Promise<Hex> {
  const receipt = await sendOnce(
    ctx,
    `deploy:${kind}`,
    deployerAccount(),
    { data: DEPLOY_DATA[kind]() },
    `deploy ${kind}`,
  );
  if (!receipt.contractAddress) throw new BlockhostError("E_CHAIN", `deploy ${kind}: receipt has no contract address`);
  return getAddress(receipt.contractAddress);
}

export const contracts: SetupStep = {
  name: "contracts",
  title: "contracts",
  async run(ctx) {
    const wanted = ctx.file.chain.contracts;
    if (wanted !== "deploy") {
      for (const [key, address] of Object.entries(wanted)) {
        if (!(await hasCode(ctx, address as Hex))) {
          throw new BlockhostError(
            "E_CONFIG_INVALID",
            `${ctx.fileName}: chain.contracts.${key}: ${address} has no contract code on chain ${ctx.file.chain.chain_id}`,
          );
        }
      }
      return { nft: getAddress(wanted.nft), subscriptions: getAddress(wanted.subscriptions), deployed: false };
    }
    // Each deployment is a recorded intent: a re-run finds the earlier transaction instead of deploying again.
    const nft = await deploy(ctx, "nft");
    const subscriptions = await deploy(ctx, "subscriptions");
    return { nft, subscriptions, deployed: true };
  },
};
