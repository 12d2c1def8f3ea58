// The fund cycle's plan from a snapshot: thresholds, buffer, revenue-share split with remainder, rest to admin.
import { describe, expect, test } from "bun:test";
import type { Hex } from "viem";
import { parseFundManager } from "../../../src/core/config/fund-manager.ts";
import { planCycle, type FundSnapshot } from "../../../src/engine/funds/plan.ts";

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Hex;
const USDC = A(1),
  TKN = A(2);
const cfg = parseFundManager({ min_withdrawal_usd: 50, server_stablecoin_buffer_usd: 10, hot_wallet_gas_eth: 0.01 });

function snap(over: Partial<FundSnapshot> = {}): FundSnapshot {
  return {
    tokens: [
      { token: USDC, symbol: "USDC", decimals: 6, priceCents: 100n, contract: 100_000_001n, hot: 0n },
      { token: TKN, symbol: "TKN", decimals: 18, priceCents: 200n, contract: 10n ** 19n, hot: 0n },
    ],
    stable: USDC,
    serverStable: 10_000_000n,
    serverEth: 10n ** 18n,
    hotEth: 10n ** 16n,
    addresses: { server: A(10), hot: A(11), admin: A(12) },
    roles: { dev: A(13), broker: A(14) },
    ...over,
  };
}

describe("planCycle", () => {
  test("withdraws only tokens worth min_withdrawal_usd; splits 1% over three recipients, the last taking the rounding remainder", () => {
    const share = {
      enabled: true,
      total_percent: 1,
      recipients: [
        { role: "dev", percent: 0.33 },
        { role: "broker", percent: 0.33 },
        { role: "dev", percent: 0.34 },
      ],
    };
    const { steps, notes } = planCycle(snap(), cfg, share);
    expect(steps.map((s) => [s.kind, s.symbol, s.to, s.amount])).toEqual([
      ["withdraw", "USDC", "hot", 100_000_001n],
      ["revenue_share", "USDC", "dev", 330_000n],
      ["revenue_share", "USDC", "broker", 330_000n],
      ["revenue_share", "USDC", "dev", 340_000n],
      ["remainder", "USDC", "admin", 99_000_001n],
    ]);
    expect(notes).toEqual(["withdraw TKN: $20.00 is under min_withdrawal_usd $50; left in the contract"]);
  });

  test("hot gas top-up only when server holds twice the difference; buffer refilled only when hot can", () => {
    const low = planCycle(snap({ hotEth: 0n, serverEth: 10n ** 16n, serverStable: 0n }), cfg, {
      enabled: false,
      total_percent: 0,
      recipients: [],
    });
    expect(low.steps.map((s) => s.kind)).toEqual(["withdraw", "stable_buffer", "remainder"]);
    expect(low.steps[1]!.amount).toBe(10_000_000n);
    expect(low.notes.some((n) => n.startsWith("hot gas: server holds less than twice"))).toBe(true);
    const rich = planCycle(snap({ hotEth: 4n * 10n ** 15n }), cfg, {
      enabled: false,
      total_percent: 0,
      recipients: [],
    });
    expect(rich.steps.find((s) => s.kind === "hot_gas")).toMatchObject({
      token: "eth",
      from: "server",
      amount: 6n * 10n ** 15n,
    });
  });

  test("a revenue-share role missing from the addressbook is a config error, not money sent elsewhere", () => {
    expect(() =>
      planCycle(snap(), cfg, { enabled: true, total_percent: 1, recipients: [{ role: "ghost", percent: 1 }] }),
    ).toThrow(/role "ghost" is not in the addressbook/);
  });

  test("fund_manager keys are validated with the file and key named", () => {
    expect(parseFundManager(undefined)).toMatchObject({
      fund_cycle_interval_hours: 24,
      gas_check_interval_minutes: 30,
      min_withdrawal_usd: 50,
      hot_wallet_gas_eth: 0.01,
    });
    expect(() => parseFundManager({ min_withdrawal_usd: "lots" })).toThrow(
      /fund_manager\.min_withdrawal_usd: expected a number/,
    );
    expect(() => parseFundManager({ withdraw_everything: true })).toThrow(/unknown key/);
  });
});
