/** Parse and format token amounts and ratios. */
import { formatUnits, parseUnits } from "viem";
import { BlockhostError } from "../core/errors.ts";

const AMOUNT_RE = /^(\d{1,40})(?:\.(\d{1,77}))?$/;

/** A decimal amount ("1.5") in a token's base units; more fraction digits than the token has is an error, not a rounding. */
export function parseAmount(text: string, decimals: number, what = "amount"): bigint {
  const m = AMOUNT_RE.exec(text);
  if (!m)
    throw new BlockhostError(
      "E_USAGE",
      `${what}: expected a decimal number like 10 or 1.5, got "${text.slice(0, 50)}"`,
    );
  if ((m[2]?.length ?? 0) > decimals)
    throw new BlockhostError("E_USAGE", `${what}: at most ${decimals} decimal places for this token`);
  const value = parseUnits(text, decimals);
  if (value === 0n) throw new BlockhostError("E_USAGE", `${what}: must be more than zero`);
  return value;
}

export const formatAmount = (value: bigint, decimals: number): string => formatUnits(value, decimals);

/** USD cents as "$12.34". */
export const formatUsd = (cents: bigint): string => `$${cents / 100n}.${(cents % 100n).toString().padStart(2, "0")}`;

/**
 * Split `total` by integer percentages that sum to 100 (`60/40`; a comma also separates).
 * Each share is rounded down; the last recipient gets the remainder, so nothing is lost.
 */
export function splitByRatios(total: bigint, ratiosText: string, recipients: number): bigint[] {
  const parts = ratiosText.split(/[/,]/);
  if (!parts.every((p) => /^\d{1,3}$/.test(p)))
    throw new BlockhostError(
      "E_USAGE",
      `ratios: expected whole percentages separated by / (e.g. 60/40), got "${ratiosText.slice(0, 50)}"`,
    );
  const ratios = parts.map(BigInt);
  if (ratios.reduce((a, b) => a + b, 0n) !== 100n)
    throw new BlockhostError("E_USAGE", `ratios: ${ratiosText} must sum to 100`);
  if (ratios.some((r) => r === 0n)) throw new BlockhostError("E_USAGE", "ratios: every share must be above 0");
  if (ratios.length !== recipients)
    throw new BlockhostError("E_USAGE", `ratios: ${ratios.length} shares for ${recipients} recipients`);
  const shares = ratios.slice(0, -1).map((r) => (total * r) / 100n);
  return [...shares, total - shares.reduce((a, b) => a + b, 0n)];
}
