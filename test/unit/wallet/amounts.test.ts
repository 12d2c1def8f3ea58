/** Token amount parsing and formatting. */
import { expect, test } from "bun:test";
import { BlockhostError } from "../../../src/core/errors.ts";
import { formatUsd, parseAmount, splitByRatios } from "../../../src/wallet/amounts.ts";

test("parseAmount: decimal text to base units, no silent rounding", () => {
  expect(parseAmount("1.5", 18)).toBe(1_500_000_000_000_000_000n);
  expect(parseAmount("10", 6)).toBe(10_000_000n);
  expect(parseAmount("0.000001", 6)).toBe(1n);
  for (const bad of ["0.0000001", "-1", "1e3", "", "0", "1.", ".5", "0x10"])
    expect(() => parseAmount(bad, 6)).toThrow(BlockhostError);
});

test("splitByRatios: / or , separated whole percentages summing to 100; remainder to the last", () => {
  expect(splitByRatios(100n, "60/40", 2)).toEqual([60n, 40n]);
  expect(splitByRatios(10n, "33/33/34", 3)).toEqual([3n, 3n, 4n]);
  expect(splitByRatios(1n, "50,50", 2)).toEqual([0n, 1n]);
  expect(() => splitByRatios(10n, "60/30", 2)).toThrow("must sum to 100");
  expect(() => splitByRatios(10n, "50/50", 3)).toThrow("2 shares for 3 recipients");
  expect(() => splitByRatios(10n, "100/0", 2)).toThrow("above 0");
  expect(() => splitByRatios(10n, "a/b", 2)).toThrow("whole percentages");
});

test("formatUsd", () => {
  expect(formatUsd(1025n)).toBe("$10.25");
  expect(formatUsd(5n)).toBe("$0.05");
});
