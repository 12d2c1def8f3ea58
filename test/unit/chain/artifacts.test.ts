/** The generated contract artifacts are in sync with the sources. */
import { expect, test } from "bun:test";
import { toFunctionSelector } from "viem";
import { generate } from "../../../scripts/compile-contracts.ts";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";

test("committed contract artifacts match the Solidity sources (else: bun scripts/compile-contracts.ts)", async () => {
  await generate({ check: true });
});

const signatures = (
  abi: readonly { type: string; name?: string; inputs?: readonly { type: string }[] }[],
  type: string,
) => abi.filter((e) => e.type === type).map((e) => `${e.name}(${(e.inputs ?? []).map((i) => i.type).join(",")})`);

test("the NFT keeps the original selectors the engine and pages call", () => {
  const fns = signatures(accessCredentialNftAbi, "function");
  expect(toFunctionSelector("mint(address,bytes)")).toBe("0xb510391f");
  expect(toFunctionSelector("updateUserEncrypted(uint256,bytes)")).toBe("0x804a083e");
  expect(toFunctionSelector("getUserEncrypted(uint256)")).toBe("0x191803d1");
  for (const f of [
    "mint(address,bytes)",
    "updateUserEncrypted(uint256,bytes)",
    "getUserEncrypted(uint256)",
    "tokenOfOwnerByIndex(address,uint256)",
    "totalSupply()",
  ])
    expect(fns).toContain(f);
  expect(signatures(accessCredentialNftAbi, "event")).toEqual(
    expect.arrayContaining(["CredentialMinted(uint256,address)", "CredentialUpdated(uint256)"]),
  );
});

test("the subscriptions contract has the original's full surface", () => {
  const fns = signatures(blockhostSubscriptionsAbi, "function");
  for (const f of [
    "setPrimaryStablecoin(address)",
    "createPlan(string,uint256)",
    "updatePlan(uint256,string,uint256,bool)",
    "cancelSubscription(uint256)",
    "addPaymentMethod(address,address,address)",
    "updatePaymentMethod(uint256,bool)",
    "withdrawFunds(address,address)",
    "setSlippageBps(uint256)",
    "setMinLiquidity(uint256)",
    "buySubscription(uint256,uint256,uint256,bytes)",
    "extendSubscription(uint256,uint256,uint256)",
    "getSubscription(uint256)",
    "getPlan(uint256)",
    "daysRemaining(uint256)",
    "getPrimaryStablecoin()",
    "getPaymentMethodIds()",
    "getPaymentMethod(uint256)",
    "calculatePayment(uint256,uint256,uint256)",
    "getTokenPriceUsdCents(uint256)",
    "getTotalSubscriptionCount()",
    "getTotalPlanCount()",
    "getSubscriptionsBySubscriber(address)",
    "isSubscriptionActive(uint256)",
    "nextPlanId()",
    "nextSubscriptionId()",
    "nextPaymentMethodId()",
    "slippageBps()",
    "minLiquidityUsd()",
    "STABLECOIN_PAYMENT_ID()",
    "owner()",
  ])
    expect(fns).toContain(f);
  expect(signatures(blockhostSubscriptionsAbi, "event")).toEqual(
    expect.arrayContaining([
      "PlanCreated(uint256,string,uint256)",
      "PlanUpdated(uint256,string,uint256,bool)",
      "SubscriptionCreated(uint256,uint256,address,uint256,uint256,address,bytes)",
      "SubscriptionExtended(uint256,uint256,address,uint256,uint256,address)",
      "SubscriptionCancelled(uint256,uint256,address)",
      "PrimaryStablecoinSet(address,uint8)",
      "PaymentMethodAdded(uint256,address,address,address)",
      "PaymentMethodUpdated(uint256,bool)",
      "FundsWithdrawn(address,address,uint256)",
      "SlippageUpdated(uint256,uint256)",
      "MinLiquidityUpdated(uint256,uint256)",
    ]),
  );
  expect(signatures(blockhostSubscriptionsAbi, "error")).toEqual(
    expect.arrayContaining([
      "PlanNotFound(uint256)",
      "PlanNotActive(uint256)",
      "PlanPriceMustBePositive()",
      "SubscriptionNotFound(uint256)",
      "SubscriptionAlreadyCancelled(uint256)",
      "PaymentMethodNotFound(uint256)",
      "PaymentMethodNotActive(uint256)",
      "PrimaryStablecoinNotSet()",
      "InvalidAddress()",
      "DaysMustBePositive()",
      "SlippageTooHigh()",
      "NoBalanceToWithdraw()",
      "TokenNotInPair()",
      "InsufficientLiquidity()",
    ]),
  );
});
