/** Paying in the stablecoin: the contract's price, check the balance, approve only when the allowance is short. */
import { BlockhostError } from "../../../core/errors.ts";
import { type Address, erc20Abi, formatUnits } from "viem";
import { blockhostSubscriptionsAbi } from "../../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { setStatus } from "../wallet.ts";
import { chain, data, mined, reader, writer } from "./page.ts";

/** Make `from` ready to pay `days` of plan `planId` in the primary stablecoin (payment method 1). */
export async function ensureFunds(from: Address, planId: bigint, days: bigint): Promise<void> {
  const coin = data.stablecoin;
  if (!coin) throw new BlockhostError("E_CONFIG_MISSING", "this host has no payment token configured");
  const r = reader();
  const amount = await r.readContract({
    address: data.subscriptions,
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
    args: [from, data.subscriptions],
  });
  if (allowance >= amount) return;
  setStatus(`Approve ${formatUnits(amount, coin.decimals)} ${coin.symbol} in your wallet…`);
  const hash = await writer(from).writeContract({
    address: coin.address,
    abi: erc20Abi,
    functionName: "approve",
    args: [data.subscriptions, amount],
    account: from,
    chain,
  });
  setStatus("Waiting for the approval to be mined…");
  await mined(hash);
}
