/**
 * Paying the subscription contract from the browser, shared by the signup page and "My servers":
 * the stablecoin check and approval, and extending a subscription (`extendSubscription`).
 */
import { type Address, type Chain, erc20Abi, formatUnits, type Hash, type TransactionReceipt } from "viem";
import { blockhostSubscriptionsAbi } from "../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { BlockhostError } from "../../core/errors.ts";
import type { Stablecoin } from "../public/chain.ts";
import { publicClient, setStatus, walletClient } from "./wallet.ts";

/** Where payments go: the host's chain, its subscription contract and its primary stablecoin. */
export interface PayTarget {
  chain: Chain;
  subscriptions: Address;
  stablecoin: Stablecoin | null;
}

/** Wait for a transaction's receipt; a revert is an error. */
export async function mined(t: PayTarget, hash: Hash): Promise<TransactionReceipt> {
  const receipt = await publicClient(t.chain).waitForTransactionReceipt({ hash, pollingInterval: 500 });
  if (receipt.status !== "success") throw new BlockhostError("E_CHAIN", `transaction ${hash} failed on chain`);
  return receipt;
}

/** Make `from` ready to pay `days` of plan `planId` in the primary stablecoin (payment method 1). */
export async function ensureFunds(t: PayTarget, from: Address, planId: bigint, days: bigint): Promise<void> {
  const coin = t.stablecoin;
  if (!coin) throw new BlockhostError("E_CONFIG_MISSING", "this host has no payment token configured");
  const r = publicClient(t.chain);
  const amount = await r.readContract({
    address: t.subscriptions,
    abi: blockhostSubscriptionsAbi,
    functionName: "calculatePayment",
    args: [planId, days, 1n],
  });
  const balance = await r.readContract({
    address: coin.address,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [from],
  });
  if (balance < amount) {
    throw new BlockhostError(
      "E_INVALID_INPUT",
      `Not enough ${coin.symbol}: you have ${formatUnits(balance, coin.decimals)}, this costs ${formatUnits(amount, coin.decimals)}.`,
    );
  }
  const allowance = await r.readContract({
    address: coin.address,
    abi: erc20Abi,
    functionName: "allowance",
    args: [from, t.subscriptions],
  });
  if (allowance >= amount) return;
  setStatus(`Approve ${formatUnits(amount, coin.decimals)} ${coin.symbol} in your wallet…`);
  const hash = await walletClient(from, t.chain).writeContract({
    address: coin.address,
    abi: erc20Abi,
    functionName: "approve",
    args: [t.subscriptions, amount],
    account: from,
    chain: t.chain,
  });
  setStatus("Waiting for the approval to be mined…");
  await mined(t, hash);
}

/** Pay `days` more of subscription `id` from `from`; the transaction and the expiry the chain now holds (seconds). */
export async function extendSubscription(
  t: PayTarget,
  from: Address,
  id: bigint,
  days: bigint,
): Promise<{ hash: Hash; expiresAt: bigint }> {
  const read = () =>
    publicClient(t.chain).readContract({
      address: t.subscriptions,
      abi: blockhostSubscriptionsAbi,
      functionName: "getSubscription",
      args: [id],
    });
  const [planId] = await read();
  await ensureFunds(t, from, planId, days);
  setStatus(`Confirm extending subscription ${id} by ${days} days in your wallet…`);
  const hash = await walletClient(from, t.chain).writeContract({
    address: t.subscriptions,
    abi: blockhostSubscriptionsAbi,
    functionName: "extendSubscription",
    args: [id, days, 1n],
    account: from,
    chain: t.chain,
  });
  setStatus("Waiting for the extension to be mined…");
  await mined(t, hash);
  const [, , expiresAt] = await read();
  return { hash, expiresAt };
}
