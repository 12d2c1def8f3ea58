// The `fund_manager:` section of blockhost.yaml and /etc/blockhost/revenue-share.json (percent form).
import { existsSync } from "node:fs";
import { BlockhostError } from "../errors.ts";
import { paths } from "../paths.ts";
import {
  isSchemaError,
  schemaError,
  array,
  bool,
  object,
  refine,
  withDefault,
  type Infer,
  type Schema,
} from "../schema.ts";
import { addressbookName } from "./addressbook.ts";
import { loadConfigFile } from "./load.ts";

/** A finite number in [min, max] (YAML gives 0.01 and 24 alike). */
export function decimal(min: number, max: number): Schema<number> {
  const describe = `a number from ${min} to ${max}`;
  return {
    describe,
    parse(v, path = "") {
      if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw schemaError(path, describe);
      return v;
    },
  };
}

/** Same keys and defaults as the original's fund manager. */
export const FUND_MANAGER_DEFAULTS = {
  fund_cycle_interval_hours: 24,
  gas_check_interval_minutes: 30,
  min_withdrawal_usd: 50,
  gas_low_threshold_usd: 5,
  gas_swap_amount_usd: 20,
  server_stablecoin_buffer_usd: 50,
  hot_wallet_gas_eth: 0.01,
  enabled: true,
} as const;

const D = FUND_MANAGER_DEFAULTS;
export const fundManagerSchema = object({
  enabled: withDefault(bool, D.enabled),
  fund_cycle_interval_hours: withDefault(decimal(0, 8760), D.fund_cycle_interval_hours),
  gas_check_interval_minutes: withDefault(decimal(0, 525_600), D.gas_check_interval_minutes),
  min_withdrawal_usd: withDefault(decimal(0, 1e12), D.min_withdrawal_usd),
  gas_low_threshold_usd: withDefault(decimal(0, 1e9), D.gas_low_threshold_usd),
  gas_swap_amount_usd: withDefault(decimal(0, 1e9), D.gas_swap_amount_usd),
  server_stablecoin_buffer_usd: withDefault(decimal(0, 1e12), D.server_stablecoin_buffer_usd),
  hot_wallet_gas_eth: withDefault(decimal(0, 1e6), D.hot_wallet_gas_eth),
});
export type FundManagerConfig = Infer<typeof fundManagerSchema>;

/** Validate the raw `fund_manager:` mapping of blockhost.yaml (absent = every default). */
export function parseFundManager(raw: unknown): FundManagerConfig {
  try {
    return fundManagerSchema.parse(raw ?? {}, "fund_manager");
  } catch (e) {
    if (isSchemaError(e))
      throw new BlockhostError("E_CONFIG_INVALID", `${paths.blockhostConfig}: ${e.message}`, {
        file: paths.blockhostConfig,
        key: e.details?.path,
      });
    throw e;
  }
}

const recipient = object({ role: addressbookName, percent: decimal(0, 100) });
export const revenueShareSchema = refine(
  object({ enabled: bool, total_percent: decimal(0, 100), recipients: array(recipient, 0, 32) }),
  "recipients whose percents sum to total_percent (and at least one recipient when enabled)",
  (r) =>
    !r.enabled ||
    (r.recipients.length > 0 && Math.abs(r.recipients.reduce((a, x) => a + x.percent, 0) - r.total_percent) < 1e-9),
);
export type RevenueShare = Infer<typeof revenueShareSchema>;

/** revenue-share.json; a missing file means no revenue share. */
export function loadRevenueShare(file = paths.config("revenue-share.json")): RevenueShare {
  if (!existsSync(file)) return { enabled: false, total_percent: 0, recipients: [] };
  return loadConfigFile(file, revenueShareSchema, "json");
}

/** Basis points of a percent (the original's `round(percent*100)`). */
export const percentToBps = (percent: number): bigint => BigInt(Math.round(percent * 100));
