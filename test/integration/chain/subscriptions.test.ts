/** The BlockhostSubscriptions contract on anvil. */
import { beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { maxUint256, parseEventLogs, parseUnits, zeroAddress, type Hex } from "viem";
import {
  blockhostSubscriptionsAbi as abi,
  blockhostSubscriptionsBytecode,
} from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { mockUniswapV2PairAbi } from "../../../src/chain/contracts/generated/test/MockUniswapV2Pair.ts";
import { anvilAvailable, type Anvil } from "../../helpers/anvil.ts";
import {
  approve,
  balanceOf,
  chainPerTest,
  deploy,
  deployPair,
  deployToken,
  expectRevert,
  minedAt,
  read,
  send,
  type Devnet,
} from "../../helpers/contracts.ts";

// Chain round trips through anvil and the compiled binary: generous, never a timing assertion.
setDefaultTimeout(60_000);

const DAY = 86_400n;
const OWNER = 0,
  USER1 = 1,
  USER2 = 2,
  PAYEE = 3;
const usdc = (n: string) => parseUnits(n, 6);
const tok = (n: string) => parseUnits(n, 18);

describe.skipIf(!anvilAvailable())("BlockhostSubscriptions on anvil", () => {
  let anvil: Anvil;
  let net: Devnet;
  let stable: Hex, token: Hex, pair: Hex, subs: Hex;

  const write = (from: number, functionName: string, args: readonly unknown[] = []) =>
    send(net, from, { address: subs, abi, functionName, args });
  const view = <T>(functionName: string, args: readonly unknown[] = []) =>
    read<T>(net, { address: subs, abi, functionName, args });
  const fails = (
    from: number,
    functionName: string,
    args: readonly unknown[],
    error: string,
    errorArgs?: readonly unknown[],
  ) => expectRevert(write(from, functionName, args), error, errorArgs);
  const sub = async (id: bigint) => {
    const [planId, subscriber, expiresAt, isActive, cancelled] = await view<[bigint, Hex, bigint, boolean, boolean]>(
      "getSubscription",
      [id],
    );
    return { planId, subscriber, expiresAt, isActive, cancelled };
  };
  const setStable = () => write(OWNER, "setPrimaryStablecoin", [stable]);
  const plan = (name = "Basic", cents = 1000n) => write(OWNER, "createPlan", [name, cents]);
  const addPairMethod = () => write(OWNER, "addPaymentMethod", [token, pair, stable]);
  const buy = (from: number, planId: bigint, days: bigint, pm: bigint, data: Hex = "0x") =>
    write(from, "buySubscription", [planId, days, pm, data]);

  chainPerTest(async (chain, chainNet) => {
    anvil = chain;
    net = chainNet;
    stable = await deployToken(net, "USDC", 6, [
      [USER1, usdc("10000")],
      [USER2, usdc("10000")],
    ]);
    token = await deployToken(net, "TOK", 18, [
      [USER1, tok("10000")],
      [USER2, tok("10000")],
    ]);
    pair = await deployPair(net, token, stable, tok("100000"), usdc("100000")); // $1 per token
    subs = await deploy(net, OWNER, abi, blockhostSubscriptionsBytecode);
    for (const user of [USER1, USER2]) for (const t of [stable, token]) await approve(net, user, t, subs, maxUint256);
  });

  describe("primary stablecoin", () => {
    test("set emits PrimaryStablecoinSet with the decimals and becomes payment method 1", async () => {
      expect(await view<bigint[]>("getPaymentMethodIds")).toEqual([]);
      const receipt = await setStable();
      const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: "PrimaryStablecoinSet" });
      expect(ev!.args).toEqual({ stablecoinAddress: stable, decimals: 6 });
      expect(await view<Hex>("getPrimaryStablecoin")).toBe(stable);
      expect(await view<bigint[]>("getPaymentMethodIds")).toEqual([1n]);
      expect(await view("getPaymentMethod", [1n])).toEqual([stable, zeroAddress, stable, 6, 6, true]);
      expect(await view<bigint>("getTokenPriceUsdCents", [1n])).toBe(100n);
    });
    test("zero address is refused; a second call replaces it; non-owners are refused", async () => {
      await fails(OWNER, "setPrimaryStablecoin", [zeroAddress], "InvalidAddress");
      await setStable();
      const other = await deployToken(net, "USDT", 6);
      await write(OWNER, "setPrimaryStablecoin", [other]);
      expect(await view<Hex>("getPrimaryStablecoin")).toBe(other);
      await fails(USER1, "setPrimaryStablecoin", [stable], "OwnableUnauthorizedAccount", [net.addresses[USER1]]);
    });
    test("buying with method 1 before a stablecoin is set reverts PaymentMethodNotFound(1)", async () => {
      await plan();
      await fails(USER1, "buySubscription", [1n, 30n, 1n, "0x"], "PaymentMethodNotFound", [1n]);
    });
  });

  describe("plans", () => {
    test("create, read, update, count; zero price and unknown ids are refused; owner only", async () => {
      const receipt = await plan("Basic Plan", 1000n);
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "PlanCreated" })[0]!.args).toEqual({
        planId: 1n,
        name: "Basic Plan",
        pricePerDayUsdCents: 1000n,
      });
      expect(await view("getPlan", [1n])).toEqual(["Basic Plan", 1000n, true]);
      await fails(OWNER, "createPlan", ["Free", 0n], "PlanPriceMustBePositive");
      const upd = await write(OWNER, "updatePlan", [1n, "Premium", 2000n, false]);
      expect(parseEventLogs({ abi, logs: upd.logs, eventName: "PlanUpdated" })[0]!.args).toEqual({
        planId: 1n,
        name: "Premium",
        pricePerDayUsdCents: 2000n,
        active: false,
      });
      expect(await view("getPlan", [1n])).toEqual(["Premium", 2000n, false]);
      await fails(OWNER, "updatePlan", [1n, "Premium", 0n, true], "PlanPriceMustBePositive");
      await fails(OWNER, "updatePlan", [2n, "Nope", 1n, true], "PlanNotFound", [2n]);
      await expectRevert(view("getPlan", [0n]), "PlanNotFound", [0n]);
      await fails(USER1, "createPlan", ["Hacker", 100n], "OwnableUnauthorizedAccount", [net.addresses[USER1]]);
      await plan("Second", 50n);
      expect(await view<bigint>("getTotalPlanCount")).toBe(2n);
      expect(await view<bigint>("nextPlanId")).toBe(3n);
    });
  });

  describe("buying with the stablecoin", () => {
    beforeEach(async () => {
      await setStable();
      await plan("Basic", 1000n); // $10/day
    });
    test("30 days at $10/day pull exactly 300 USDC and emit userEncrypted unchanged", async () => {
      const before = await balanceOf(net, stable, net.addresses[USER1]!);
      expect(await view<bigint>("calculatePayment", [1n, 30n, 1n])).toBe(usdc("300"));
      const payload = "0xdeadbeef1234567890" as Hex;
      const receipt = await buy(USER1, 1n, 30n, 1n, payload);
      expect(before - (await balanceOf(net, stable, net.addresses[USER1]!))).toBe(300_000_000n);
      expect(await balanceOf(net, stable, subs)).toBe(300_000_000n);
      const at = await minedAt(net, receipt);
      const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: "SubscriptionCreated" });
      expect(ev!.args).toEqual({
        subscriptionId: 1n,
        planId: 1n,
        subscriber: net.addresses[USER1]!,
        expiresAt: at + 30n * DAY,
        paidAmount: 300_000_000n,
        paymentToken: stable,
        userEncrypted: payload,
      });
      expect(await sub(1n)).toEqual({
        planId: 1n,
        subscriber: net.addresses[USER1]!,
        expiresAt: at + 30n * DAY,
        isActive: true,
        cancelled: false,
      });
      expect(await view<boolean>("isSubscriptionActive", [1n])).toBe(true);
      expect(await view<bigint>("daysRemaining", [1n])).toBe(30n);
    });
    test("a $1/day plan costs exactly 1 USDC per day", async () => {
      await plan("Tiny", 100n);
      expect(await view<bigint>("calculatePayment", [2n, 1n, 1n])).toBe(1_000_000n);
      const before = await balanceOf(net, stable, net.addresses[USER2]!);
      await buy(USER2, 2n, 7n, 1n);
      expect(before - (await balanceOf(net, stable, net.addresses[USER2]!))).toBe(7_000_000n);
    });
    test("an 18-decimal stablecoin is priced in its own units", async () => {
      const dai = await deployToken(net, "DAI", 18, [[USER1, tok("1000")]]);
      await approve(net, USER1, dai, subs, maxUint256);
      await write(OWNER, "setPrimaryStablecoin", [dai]);
      await buy(USER1, 1n, 3n, 1n);
      expect(await balanceOf(net, dai, subs)).toBe(tok("30"));
    });
    test("bad input reverts with the matching custom error", async () => {
      await fails(USER1, "buySubscription", [9n, 30n, 1n, "0x"], "PlanNotFound", [9n]);
      await fails(USER1, "buySubscription", [1n, 0n, 1n, "0x"], "DaysMustBePositive");
      await fails(USER1, "buySubscription", [1n, 30n, 7n, "0x"], "PaymentMethodNotFound", [7n]);
      await write(OWNER, "updatePlan", [1n, "Basic", 1000n, false]);
      await fails(USER1, "buySubscription", [1n, 30n, 1n, "0x"], "PlanNotActive", [1n]);
      await write(OWNER, "updatePlan", [1n, "Basic", 1000n, true]);
      await write(OWNER, "updatePaymentMethod", [1n, false]);
      await fails(USER1, "buySubscription", [1n, 30n, 1n, "0x"], "PaymentMethodNotActive", [1n]);
      await fails(OWNER, "updatePaymentMethod", [5n, true], "PaymentMethodNotFound", [5n]);
      expect(await view<bigint>("getTotalSubscriptionCount")).toBe(0n);
    });
    test("buying without an allowance fails and takes nothing", async () => {
      await expectRevert(buy(PAYEE, 1n, 1n, 1n), "ERC20InsufficientAllowance(address,uint256,uint256)");
      expect(await balanceOf(net, stable, subs)).toBe(0n);
    });
  });

  describe("tokens priced from a Uniswap V2 pair", () => {
    beforeEach(async () => {
      await setStable();
      await plan("Basic", 1000n);
    });
    test("addPaymentMethod stores both decimals and lists the method after the stablecoin", async () => {
      const receipt = await addPairMethod();
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "PaymentMethodAdded" })[0]!.args).toEqual({
        paymentMethodId: 2n,
        tokenAddress: token,
        pairAddress: pair,
        stablecoinAddress: stable,
      });
      expect(await view("getPaymentMethod", [2n])).toEqual([token, pair, stable, 18, 6, true]);
      expect(await view<bigint[]>("getPaymentMethodIds")).toEqual([1n, 2n]);
      expect(await view<bigint>("nextPaymentMethodId")).toBe(3n);
      expect(await view<bigint>("getTokenPriceUsdCents", [2n])).toBe(100n);
    });
    test("a token that is not in the pair is refused with TokenNotInPair", async () => {
      const stranger = await deployToken(net, "RND", 18);
      await fails(OWNER, "addPaymentMethod", [stranger, pair, stable], "TokenNotInPair");
      await fails(OWNER, "addPaymentMethod", [token, pair, stranger], "TokenNotInPair");
      await fails(OWNER, "addPaymentMethod", [zeroAddress, pair, stable], "InvalidAddress");
    });
    test("$300 at $1/token costs 300 tokens plus 1% slippage = exactly 303 tokens", async () => {
      await addPairMethod();
      expect(await view<bigint>("calculatePayment", [1n, 30n, 2n])).toBe(tok("303"));
      const before = await balanceOf(net, token, net.addresses[USER1]!);
      const receipt = await buy(USER1, 1n, 30n, 2n);
      expect(before - (await balanceOf(net, token, net.addresses[USER1]!))).toBe(tok("303"));
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "SubscriptionCreated" })[0]!.args.paymentToken).toBe(
        token,
      );
    });
    test("an expensive token ($2000) costs 0.1515 tokens for $300 with slippage", async () => {
      const pricey = await deployToken(net, "WETH", 18, [[USER1, tok("10")]]);
      const p2 = await deployPair(net, stable, pricey, usdc("200000"), tok("100")); // stablecoin is token0 here
      await write(OWNER, "addPaymentMethod", [pricey, p2, stable]);
      expect(await view<bigint>("getTokenPriceUsdCents", [2n])).toBe(200_000n);
      expect(await view<bigint>("calculatePayment", [1n, 30n, 2n])).toBe(151_500_000_000_000_000n);
    });
    test("slippage is settable up to 10% and changes the price; above is SlippageTooHigh", async () => {
      await addPairMethod();
      const r = await write(OWNER, "setSlippageBps", [500n]);
      expect(parseEventLogs({ abi, logs: r.logs, eventName: "SlippageUpdated" })[0]!.args).toEqual({
        oldSlippageBps: 100n,
        newSlippageBps: 500n,
      });
      expect(await view<bigint>("calculatePayment", [1n, 30n, 2n])).toBe(tok("315"));
      await fails(OWNER, "setSlippageBps", [1001n], "SlippageTooHigh");
      await fails(USER1, "setSlippageBps", [0n], "OwnableUnauthorizedAccount", [net.addresses[USER1]]);
    });
    test("a pair with less than $10k of stablecoin is refused; the stablecoin itself needs no liquidity", async () => {
      await addPairMethod();
      await send(net, OWNER, {
        address: pair,
        abi: mockUniswapV2PairAbi,
        functionName: "setReserves",
        args: [tok("5000"), usdc("5000")],
      });
      await fails(USER1, "buySubscription", [1n, 30n, 2n, "0x"], "InsufficientLiquidity");
      await expectRevert(view("calculatePayment", [1n, 30n, 2n]), "InsufficientLiquidity");
      await buy(USER1, 1n, 30n, 1n);
      const r = await write(OWNER, "setMinLiquidity", [usdc("1000")]);
      expect(parseEventLogs({ abi, logs: r.logs, eventName: "MinLiquidityUpdated" })[0]!.args).toEqual({
        oldMinLiquidity: usdc("10000"),
        newMinLiquidity: usdc("1000"),
      });
      expect(await view<bigint>("minLiquidityUsd")).toBe(usdc("1000"));
      await buy(USER1, 1n, 30n, 2n);
    });
    test("a disabled pair method is refused until re-enabled", async () => {
      await addPairMethod();
      const r = await write(OWNER, "updatePaymentMethod", [2n, false]);
      expect(parseEventLogs({ abi, logs: r.logs, eventName: "PaymentMethodUpdated" })[0]!.args).toEqual({
        paymentMethodId: 2n,
        active: false,
      });
      await fails(USER1, "buySubscription", [1n, 30n, 2n, "0x"], "PaymentMethodNotActive", [2n]);
      await write(OWNER, "updatePaymentMethod", [2n, true]);
      await buy(USER1, 1n, 30n, 2n);
    });
  });

  describe("extending", () => {
    let bought: bigint;
    beforeEach(async () => {
      await setStable();
      await plan("Basic", 1000n);
      bought = await minedAt(net, await buy(USER1, 1n, 30n, 1n));
    });
    test("an active subscription is extended from its expiry, paying exactly the days added", async () => {
      const before = await balanceOf(net, stable, net.addresses[USER1]!);
      const receipt = await write(USER1, "extendSubscription", [1n, 15n, 1n]);
      expect((await sub(1n)).expiresAt).toBe(bought + 45n * DAY);
      expect(before - (await balanceOf(net, stable, net.addresses[USER1]!))).toBe(usdc("150"));
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "SubscriptionExtended" })[0]!.args).toEqual({
        subscriptionId: 1n,
        planId: 1n,
        extendedBy: net.addresses[USER1]!,
        newExpiresAt: bought + 45n * DAY,
        paidAmount: usdc("150"),
        paymentToken: stable,
      });
    });
    test("an expired subscription is extended from now", async () => {
      await anvil.increaseTime(31 * 86_400);
      expect(await view<boolean>("isSubscriptionActive", [1n])).toBe(false);
      expect(await view<bigint>("daysRemaining", [1n])).toBe(0n);
      const at = await minedAt(net, await write(USER1, "extendSubscription", [1n, 30n, 1n]));
      expect(await sub(1n)).toMatchObject({ expiresAt: at + 30n * DAY, isActive: true });
    });
    test("anyone may extend (gifting): the gifter pays, the subscriber stays", async () => {
      const gifter = net.addresses[USER2]!;
      const before = await balanceOf(net, stable, gifter);
      const receipt = await write(USER2, "extendSubscription", [1n, 15n, 1n]);
      expect(before - (await balanceOf(net, stable, gifter))).toBe(usdc("150"));
      expect((await sub(1n)).subscriber).toBe(net.addresses[USER1]!);
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "SubscriptionExtended" })[0]!.args.extendedBy).toBe(
        gifter,
      );
    });
    test("paying the extension in a pair-priced token (mixed methods)", async () => {
      await addPairMethod();
      await write(USER1, "extendSubscription", [1n, 30n, 2n]);
      expect(await sub(1n)).toMatchObject({ expiresAt: bought + 60n * DAY, isActive: true });
      expect(await balanceOf(net, token, subs)).toBe(tok("303"));
    });
    test("cancelled, unknown, inactive-plan and zero-day extensions are refused", async () => {
      await fails(USER1, "extendSubscription", [2n, 1n, 1n], "SubscriptionNotFound", [2n]);
      await fails(USER1, "extendSubscription", [1n, 0n, 1n], "DaysMustBePositive");
      await write(OWNER, "updatePlan", [1n, "Basic", 1000n, false]);
      await fails(USER1, "extendSubscription", [1n, 1n, 1n], "PlanNotActive", [1n]);
      await write(OWNER, "updatePlan", [1n, "Basic", 1000n, true]);
      await write(OWNER, "cancelSubscription", [1n]);
      await fails(USER1, "extendSubscription", [1n, 30n, 1n], "SubscriptionAlreadyCancelled", [1n]);
    });
  });

  describe("cancelling", () => {
    beforeEach(async () => {
      await setStable();
      await plan("Basic", 1000n);
      await buy(USER1, 1n, 30n, 1n);
    });
    test("the owner cancels: expiry becomes now, inactive, event carries the subscriber", async () => {
      const receipt = await write(OWNER, "cancelSubscription", [1n]);
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "SubscriptionCancelled" })[0]!.args).toEqual({
        subscriptionId: 1n,
        planId: 1n,
        subscriber: net.addresses[USER1]!,
      });
      expect(await sub(1n)).toEqual({
        planId: 1n,
        subscriber: net.addresses[USER1]!,
        expiresAt: await minedAt(net, receipt),
        isActive: false,
        cancelled: true,
      });
      expect(await view<bigint>("daysRemaining", [1n])).toBe(0n);
      expect(await view<boolean>("isSubscriptionActive", [1n])).toBe(false);
    });
    test("double cancel, unknown id and non-owner cancel are refused (no user cancel, no refund)", async () => {
      await fails(USER1, "cancelSubscription", [1n], "OwnableUnauthorizedAccount", [net.addresses[USER1]]);
      await write(OWNER, "cancelSubscription", [1n]);
      await fails(OWNER, "cancelSubscription", [1n], "SubscriptionAlreadyCancelled", [1n]);
      await fails(OWNER, "cancelSubscription", [5n], "SubscriptionNotFound", [5n]);
      expect(await balanceOf(net, stable, subs)).toBe(usdc("300"));
    });
  });

  describe("withdrawing", () => {
    beforeEach(async () => {
      await setStable();
      await plan("Basic", 1000n);
      await buy(USER1, 1n, 30n, 1n);
    });
    test("the whole balance goes to the recipient; a second withdraw has nothing left", async () => {
      const payee = net.addresses[PAYEE]!;
      const receipt = await write(OWNER, "withdrawFunds", [stable, payee]);
      expect(parseEventLogs({ abi, logs: receipt.logs, eventName: "FundsWithdrawn" })[0]!.args).toEqual({
        token: stable,
        to: payee,
        amount: usdc("300"),
      });
      expect(await balanceOf(net, stable, payee)).toBe(usdc("300"));
      expect(await balanceOf(net, stable, subs)).toBe(0n);
      await fails(OWNER, "withdrawFunds", [stable, payee], "NoBalanceToWithdraw");
    });
    test("only the owner withdraws, never to the zero address", async () => {
      await fails(USER1, "withdrawFunds", [stable, net.addresses[USER1]], "OwnableUnauthorizedAccount", [
        net.addresses[USER1],
      ]);
      await fails(OWNER, "withdrawFunds", [stable, zeroAddress], "InvalidAddress");
    });
  });

  describe("views", () => {
    test("daysRemaining counts whole days; lists and counts follow purchases", async () => {
      await setStable();
      await plan("Basic", 1000n);
      await buy(USER1, 1n, 30n, 1n);
      await buy(USER2, 1n, 5n, 1n);
      await buy(USER1, 1n, 2n, 1n);
      await anvil.increaseTime(86_400 + 1);
      expect(await view<bigint>("daysRemaining", [1n])).toBe(28n);
      expect(await view<bigint>("daysRemaining", [3n])).toBe(0n);
      await expectRevert(view("daysRemaining", [4n]), "SubscriptionNotFound", [4n]);
      await expectRevert(view("getSubscription", [0n]), "SubscriptionNotFound", [0n]);
      expect(await view<bigint[]>("getSubscriptionsBySubscriber", [net.addresses[USER1]])).toEqual([1n, 3n]);
      expect(await view<bigint[]>("getSubscriptionsBySubscriber", [net.addresses[USER2]])).toEqual([2n]);
      expect(await view<bigint[]>("getSubscriptionsBySubscriber", [net.addresses[PAYEE]])).toEqual([]);
      expect(await view<bigint>("getTotalSubscriptionCount")).toBe(3n);
      expect(await view<bigint>("nextSubscriptionId")).toBe(4n);
      expect(await view<boolean>("isSubscriptionActive", [0n])).toBe(false);
      expect(await view<boolean>("isSubscriptionActive", [99n])).toBe(false);
      expect(await view<bigint>("STABLECOIN_PAYMENT_ID")).toBe(1n);
      expect(await view<bigint>("slippageBps")).toBe(100n);
      expect(await view<Hex>("owner")).toBe(net.addresses[OWNER]!);
    });
  });

  test("gas: buySubscription with a signup-page-sized ECIES payload", async () => {
    await setStable();
    await plan("Basic", 1000n);
    // What the signup page sends: ECIES(eph pubkey 65 ‖ iv 12 ‖ 132-char signature text ‖ tag 16) = 225 bytes.
    const payload = `0x${"ab".repeat(225)}` as Hex;
    const first = await buy(USER1, 1n, 30n, 1n, payload);
    const second = await buy(USER2, 1n, 30n, 1n, payload);
    console.log(
      `gas buySubscription (stablecoin, ${(payload.length - 2) / 2}-byte payload): first=${first.gasUsed} subsequent=${second.gasUsed}`,
    );
    expect(first.gasUsed).toBeGreaterThan(0n);
  });
});
