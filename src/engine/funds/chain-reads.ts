// Reads the fund manager needs from the chain: token metadata, balances and the contract's USD prices.
import { erc20Abi, getAddress, type Hex } from "viem";
import type { ChainAccess } from "../../chain/client.ts";
import { blockhostSubscriptionsAbi as subsAbi } from "../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "../../chain/errors.ts";
import { activePaymentTokens } from "../../chain/payment-methods.ts";
import type { TokenSnapshot } from "./plan.ts";

const ZERO = /^0x0{40}$/;

export async function erc20Balance(access: ChainAccess, token: Hex, who: Hex): Promise<bigint> {
  return await onChain(`balance of ${who}`, () =>
    access.publicClient.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [who] }),
  );
}

export async function ethBalance(access: ChainAccess, who: Hex): Promise<bigint> {
  return await onChain(`ETH balance of ${who}`, () => access.publicClient.getBalance({ address: who }));
}

async function tokenMeta(access: ChainAccess, token: Hex): Promise<{ decimals: number; symbol: string }> {
  const read = <T>(functionName: "decimals" | "symbol") =>
    access.publicClient.readContract({ address: token, abi: erc20Abi, functionName }) as Promise<T>;
  const [decimals, symbol] = await Promise.all([
    read<number>("decimals").catch(() => 18),
    read<string>("symbol").catch(() => token),
  ]);
  return { decimals, symbol: /^[\x20-\x7e]{1,32}$/.test(symbol) ? symbol : token };
}

/** Every active payment token: metadata, USD price, and what the contract and hot hold. */
export async function paymentTokenSnapshots(
  access: ChainAccess,
  subscriptions: Hex,
  hot: Hex,
): Promise<TokenSnapshot[]> {
  const out: TokenSnapshot[] = [];
  for (const { token, paymentMethodId } of await activePaymentTokens(access, subscriptions)) {
    const meta = await tokenMeta(access, token);
    const priceCents = await access.publicClient
      .readContract({
        address: subscriptions,
        abi: subsAbi,
        functionName: "getTokenPriceUsdCents",
        args: [paymentMethodId],
      })
      .catch(() => 100n);
    out.push({
      token: getAddress(token),
      ...meta,
      priceCents,
      contract: await erc20Balance(access, token, subscriptions),
      hot: await erc20Balance(access, token, hot),
    });
  }
  return out;
}

export async function primaryStablecoin(access: ChainAccess, subscriptions: Hex): Promise<Hex | null> {
  const stable = await onChain("getPrimaryStablecoin", () =>
    access.publicClient.readContract({ address: subscriptions, abi: subsAbi, functionName: "getPrimaryStablecoin" }),
  );
  return ZERO.test(stable) ? null : getAddress(stable);
}
