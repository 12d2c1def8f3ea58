/** The payment tokens the subscription contract accepts. */
import type { Hex } from "viem";
import type { ChainAccess } from "./client.ts";
import { blockhostSubscriptionsAbi as abi } from "./contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "./errors.ts";

export interface PaymentToken {
  token: Hex;
  paymentMethodId: bigint;
}

/** Every distinct token of an active payment method, with the first method id that prices it (for getTokenPriceUsdCents). */
export async function activePaymentTokens(access: ChainAccess, subscriptions: Hex): Promise<PaymentToken[]> {
  const read = access.publicClient;
  const ids = await onChain("getPaymentMethodIds", () =>
    read.readContract({ address: subscriptions, abi, functionName: "getPaymentMethodIds" }),
  );
  const out = new Map<string, PaymentToken>();
  for (const id of ids) {
    const [token, , , , , active] = await onChain(`getPaymentMethod(${id})`, () =>
      read.readContract({ address: subscriptions, abi, functionName: "getPaymentMethod", args: [id] }),
    );
    if (active && !out.has(token.toLowerCase())) out.set(token.toLowerCase(), { token, paymentMethodId: id });
  }
  return [...out.values()];
}
