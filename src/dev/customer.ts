/** What a customer's browser does on signup, for the dev stack. */
import { bytesToHex, maxUint256, parseEventLogs, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { mockErc20Abi } from "../chain/contracts/generated/test/MockERC20.ts";
import { writeAndWait } from "../chain/tx.ts";
import { eciesEncrypt } from "../crypto/ecies.ts";
import { decryptWithSignature, utf8 } from "../crypto/symmetric.ts";
import { DEV_PUBLIC_SECRET, type DevHost } from "./host.ts";

export interface Purchase {
  readonly subscriptionId: bigint;
  readonly signature: Hex;
}

/**
 * What the signup page does in a customer's browser: sign the public secret, encrypt the
 * signature to the server's public key, approve the stablecoin and buy a subscription.
 */
export async function buyAsCustomer(host: DevHost, customer: PrivateKeyAccount, days: bigint): Promise<Purchase> {
  const signature = await customer.signMessage({ message: DEV_PUBLIC_SECRET });
  const payload = bytesToHex(eciesEncrypt(host.serverPublicKey, new TextEncoder().encode(signature)));
  await writeAndWait(
    host.access,
    customer,
    { address: host.stablecoin, abi: mockErc20Abi, functionName: "approve", args: [host.subscriptions, maxUint256] },
    "approve the stablecoin",
  );
  const { receipt } = await writeAndWait(
    host.access,
    customer,
    {
      address: host.subscriptions,
      abi: blockhostSubscriptionsAbi,
      functionName: "buySubscription",
      args: [1n, days, 1n, payload],
    },
    "buy a subscription",
  );
  const [created] = parseEventLogs({
    abi: blockhostSubscriptionsAbi,
    logs: receipt.logs,
    eventName: "SubscriptionCreated",
  });
  return { subscriptionId: created!.args.subscriptionId, signature };
}

/** The customer's view of their access NFT: token id and the connection details it decrypts to. */
export async function customerCredential(
  host: DevHost,
  customer: PrivateKeyAccount,
  signature: Hex,
): Promise<{ tokenId: bigint; details: Record<string, unknown> } | undefined> {
  const read = host.access.publicClient;
  const balance = await read.readContract({
    address: host.nft,
    abi: accessCredentialNftAbi,
    functionName: "balanceOf",
    args: [customer.address],
  });
  if (balance === 0n) return undefined;
  const tokenId = await read.readContract({
    address: host.nft,
    abi: accessCredentialNftAbi,
    functionName: "tokenOfOwnerByIndex",
    args: [customer.address, balance - 1n],
  });
  const encrypted = await read.readContract({
    address: host.nft,
    abi: accessCredentialNftAbi,
    functionName: "getUserEncrypted",
    args: [tokenId],
  });
  return { tokenId, details: JSON.parse(utf8(decryptWithSignature(signature, encrypted))) as Record<string, unknown> };
}
