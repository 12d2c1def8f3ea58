/** EIP-55 validation (one validator for arguments and config values) and the table/colour output rules. */
import { afterEach, describe, expect, test } from "bun:test";
import { getAddress } from "viem";
import { addressArg, addressProblem, isValidAddress, toChecksumAddress } from "../../../src/core/address.ts";
import { exitCodeFor, hasCode } from "../../../src/core/errors.ts";
import { colourEnabled, formatTable } from "../../../src/core/output.ts";
import { evmAddress } from "../../../src/core/validators.ts";

// The test vectors of EIP-55 itself.
const EIP55: `0x${string}`[] = [
  "0x52908400098527886E0F7030069857D2E4169EE7",
  "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
  "0xde709f2102306220921060314715629080e2fb77",
  "0x27b1fdb04752bbc536007a920d24acb045561c26",
  "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
  "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
  "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
  "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
];
/** One letter's case flipped: the typo a checksum exists to catch. */
const flipOne = (a: string) => {
  const i = [...a].findIndex((c, k) => k > 1 && /[a-fA-F]/.test(c) && a.slice(2) !== a.slice(2).toLowerCase());
  const c = a[i]!;
  return a.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + a.slice(i + 1);
};

describe("EIP-55", () => {
  test("the EIP's vectors are their own checksum form and agree with viem", () => {
    for (const a of EIP55) {
      expect(toChecksumAddress(a.toLowerCase())).toBe(getAddress(a));
      if (a.slice(2) !== a.slice(2).toLowerCase()) expect(toChecksumAddress(a.toLowerCase())).toBe(a);
      expect(isValidAddress(a)).toBe(true);
    }
  });

  test("all-lowercase or all-uppercase is unchecked; a mixed-case typo is refused, naming the right form", () => {
    expect(addressProblem("0x52908400098527886e0f7030069857d2e4169ee7")).toBeNull();
    expect(addressProblem("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED")).toBeNull();
    const typo = flipOne(EIP55[0]!);
    expect(addressProblem(typo)).toContain("EIP-55 checksum mismatch");
    expect(addressProblem(typo)).toContain(EIP55[0]!);
    expect(addressProblem("0x52908400098527886E0F7030069857D2E4169EE")).toContain("20-byte hex");
    expect(addressProblem(42)).toContain("20-byte hex");
  });

  test("a CLI argument with a bad checksum is a usage error (exit 2) naming the argument", () => {
    let caught: unknown;
    try {
      addressArg(flipOne(EIP55[4]!), "--owner-wallet");
    } catch (e) {
      caught = e;
    }
    expect(hasCode(caught, "E_USAGE")).toBe(true);
    expect(exitCodeFor(caught)).toBe(2);
    expect((caught as Error).message).toStartWith("--owner-wallet: EIP-55 checksum mismatch");
    expect(addressArg(EIP55[4]!.toLowerCase(), "x")).toBe(EIP55[4]! as `0x${string}`);
  });

  test("config values go through the same check (the evmAddress schema)", () => {
    expect(evmAddress.parse(EIP55[5]!, "blockchain.nft_contract")).toBe(EIP55[5]!);
    expect(() => evmAddress.parse(flipOne(EIP55[5]!), "blockchain.nft_contract")).toThrow(
      "blockchain.nft_contract: EIP-55 checksum mismatch",
    );
  });
});

describe("output", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env.NO_COLOR = saved.NO_COLOR;
    if (saved.NO_COLOR === undefined) delete process.env.NO_COLOR;
  });

  test("tables are aligned with spaces: no tabs, no trailing spaces, empty cells shown as -", () => {
    const t = formatTable(
      ["NAME", "IP", "EXPIRES"],
      [
        ["web1", "192.168.122.200", "2026-12-31"],
        ["a-much-longer-name", null, "2027-01-01"],
      ],
    );
    const lines = t.split("\n");
    expect(t).not.toContain("\t");
    for (const l of lines) expect(l).toBe(l.trimEnd());
    const col = lines[0]!.indexOf("IP");
    expect(lines[1]!.indexOf("192.168.122.200")).toBe(col);
    expect(lines[2]!.slice(col, col + 1)).toBe("-");
  });

  test("colour only on a TTY, never with NO_COLOR", () => {
    delete process.env.NO_COLOR;
    expect(colourEnabled({ isTTY: false })).toBe(false);
    expect(colourEnabled({ isTTY: true })).toBe(process.env.TERM !== "dumb");
    process.env.NO_COLOR = "1";
    expect(colourEnabled({ isTTY: true })).toBe(false);
  });
});
