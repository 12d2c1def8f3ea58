// The fund cycle's plan, computed from one snapshot of balances (pure: the same input gives the same steps).
import { parseUnits, type Hex } from "viem";
import { percentToBps, type FundManagerConfig, type RevenueShare } from "../../core/config/fund-manager.ts";
import { BlockhostError } from "../../core/errors.ts";

export interface TokenSnapshot {
  token: Hex;
  symbol: string;
  decimals: number;
  /** USD cents per whole token (100 when the price cannot be read: the original assumes $1). */
  priceCents: bigint;
  contract: bigint;
  hot: bigint;
}

export interface FundSnapshot {
  tokens: TokenSnapshot[];
  /** The primary stablecoin (zero address when none). */
  stable: Hex | null;
  serverStable: bigint;
  serverEth: bigint;
  hotEth: bigint;
  addresses: { server: Hex; hot: Hex; admin: Hex };
  /** Revenue-share recipients' addresses by role. */
  roles: Record<string, Hex>;
}

export type StepKind = "withdraw" | "hot_gas" | "stable_buffer" | "revenue_share" | "remainder" | "gas_swap";

export interface Step {
  kind: StepKind;
  /** `eth` or the token address. */
  token: "eth" | Hex;
  symbol: string;
  decimals: number;
  from: "server" | "hot";
  /** A role name (or `hot`/`server`/`admin`). */
  to: string;
  toAddress: Hex;
  amount: bigint;
}

export interface Plan {
  steps: Step[];
  notes: string[];
}

const usdUnits = (usd: number, decimals: number) => parseUnits(usd.toFixed(Math.min(decimals, 6)), decimals);
const cents = (usd: number) => BigInt(Math.round(usd * 100));
const fmtCents = (c: bigint) => `$${c / 100n}.${(c % 100n).toString().padStart(2, "0")}`;

/** The hot wallet's gas top-up from server (used by the cycle and the gas check). */
export function hotGasStep(
  s: Pick<FundSnapshot, "serverEth" | "hotEth" | "addresses">,
  cfg: FundManagerConfig,
  notes: string[],
): Step | null {
  const target = parseUnits(cfg.hot_wallet_gas_eth.toFixed(18), 18);
  if (s.hotEth >= target) return null;
  const diff = target - s.hotEth;
  if (s.serverEth < 2n * diff) {
    notes.push(`hot gas: server holds less than twice the ${diff} wei top-up; skipped`);
    return null;
  }
  return {
    kind: "hot_gas",
    token: "eth",
    symbol: "ETH",
    decimals: 18,
    from: "server",
    to: "hot",
    toAddress: s.addresses.hot,
    amount: diff,
  };
}

/**
 * The original's fund cycle: withdraw tokens worth at least min_withdrawal_usd to hot, top up
 * hot's gas, refill server's stablecoin buffer, pay the revenue share (last recipient gets the
 * rounding remainder), send the rest to admin. Native ETH in hot stays there for gas.
 */
export function planCycle(s: FundSnapshot, cfg: FundManagerConfig, share: RevenueShare): Plan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const hot = new Map(s.tokens.map((t) => [t.token.toLowerCase(), t.hot]));
  const info = new Map(s.tokens.map((t) => [t.token.toLowerCase(), t]));
  const hotSend = (kind: StepKind, t: TokenSnapshot, to: string, toAddress: Hex, amount: bigint) => {
    if (amount <= 0n) return;
    steps.push({ kind, token: t.token, symbol: t.symbol, decimals: t.decimals, from: "hot", to, toAddress, amount });
    hot.set(t.token.toLowerCase(), hot.get(t.token.toLowerCase())! - amount);
  };

  for (const t of s.tokens) {
    if (t.contract === 0n) continue;
    const value = (t.contract * t.priceCents) / 10n ** BigInt(t.decimals);
    if (value < cents(cfg.min_withdrawal_usd)) {
      notes.push(
        `withdraw ${t.symbol}: ${fmtCents(value)} is under min_withdrawal_usd $${cfg.min_withdrawal_usd}; left in the contract`,
      );
      continue;
    }
    steps.push({
      kind: "withdraw",
      token: t.token,
      symbol: t.symbol,
      decimals: t.decimals,
      from: "server",
      to: "hot",
      toAddress: s.addresses.hot,
      amount: t.contract,
    });
    hot.set(t.token.toLowerCase(), t.hot + t.contract);
  }

  const gas = hotGasStep(s, cfg, notes);
  if (gas) steps.push(gas);

  const stable = s.stable ? info.get(s.stable.toLowerCase()) : undefined;
  if (stable) {
    const buffer = usdUnits(cfg.server_stablecoin_buffer_usd, stable.decimals);
    if (s.serverStable < buffer) {
      const short = buffer - s.serverStable;
      if (hot.get(stable.token.toLowerCase())! >= short)
        hotSend("stable_buffer", stable, "server", s.addresses.server, short);
      else
        notes.push(
          `stablecoin buffer: hot holds less than the ${short} ${stable.symbol} units server is short; skipped`,
        );
    }
  }

  if (share.enabled && share.recipients.length > 0) {
    const totalBps = percentToBps(share.total_percent);
    for (const t of s.tokens) {
      const held = hot.get(t.token.toLowerCase())!;
      const pot = (held * totalBps) / 10_000n;
      if (pot === 0n || totalBps === 0n) continue;
      let given = 0n;
      share.recipients.forEach((r, i) => {
        const address = s.roles[r.role];
        if (!address)
          throw new BlockhostError(
            "E_CONFIG_INVALID",
            `revenue-share.json: role "${r.role}" is not in the addressbook`,
          );
        const last = i === share.recipients.length - 1;
        const amount = last ? pot - given : (pot * percentToBps(r.percent)) / totalBps;
        given += amount;
        hotSend("revenue_share", t, r.role, address, amount);
      });
    }
  }

  for (const t of s.tokens) hotSend("remainder", t, "admin", s.addresses.admin, hot.get(t.token.toLowerCase())!);
  return { steps, notes };
}
