/** Paying in the stablecoin: check the balance, approve only when the allowance is short. */
import { BlockhostError } from "../../../core/errors.ts";
import { type Address, erc20Abi, formatUnits } from "viem";
import { setStatus } from "../wallet.ts";
import { chain, data, mined, reader, writer } from "./page.ts";

export async function ensureFunds(from: Address, amount: bigint): Promise<void> {
  const coin = data.stablecoin;
  if (!coin) throw new BlockhostError("E_CONFIG_MISSING", "this host has no payment token configured");
  const r = reader();
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
