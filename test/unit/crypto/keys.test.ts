/** Key handling against known answers. */
import { describe, expect, test } from "bun:test";
import { BlockhostError } from "../../../src/core/errors.ts";
import {
  addressOfPrivateKey,
  addressOfPublicKey,
  generatePrivateKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyOf,
} from "../../../src/crypto/keys.ts";
import { toHex, V } from "./vectors.ts";

describe("keys (known answers from Python cryptography)", () => {
  test.each(V.keys)("private key $private_key → public key and EIP-55 address", (v) => {
    const key = parsePrivateKey(v.private_key);
    expect(toHex(publicKeyOf(key))).toBe(v.public_key);
    expect(addressOfPrivateKey(key)).toBe(v.address as `0x${string}`);
  });

  test("a compressed public key is accepted and expanded", () => {
    const v = V.keys[3]!;
    const full = parsePublicKey(v.public_key);
    const y = BigInt(`0x${v.public_key.slice(66)}`);
    const compressed = (y % 2n === 0n ? "02" : "03") + v.public_key.slice(2, 66);
    expect(toHex(parsePublicKey(compressed))).toBe(v.public_key);
    expect(addressOfPublicKey(full)).toBe(v.address as `0x${string}`);
  });

  test("0x prefix and a trailing newline (key files) are accepted", () => {
    expect(toHex(parsePrivateKey(`0x${V.keys[4]!.private_key}\n`))).toBe(V.keys[4]!.private_key);
  });

  test.each([
    ["too short", "ab".repeat(31)],
    ["not hex", "zz".repeat(32)],
    ["zero", "00".repeat(32)],
    ["the group order n", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"],
  ])("a private key that is %s is refused", (_why, text) => {
    expect(() => parsePrivateKey(text)).toThrow(BlockhostError);
  });

  test("a public key off the curve is refused", () => {
    const bad = V.keys[3]!.public_key.slice(0, -2) + (V.keys[3]!.public_key.endsWith("00") ? "01" : "00");
    expect(() => parsePublicKey(bad)).toThrow(/not a point on secp256k1/);
    expect(() => parsePublicKey("04abcd")).toThrow(/65 bytes/);
  });

  test("generated keys are valid and distinct", () => {
    const a = generatePrivateKey();
    const b = generatePrivateKey();
    expect(a.length).toBe(32);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(parsePrivateKey(toHex(a)))).toBe(toHex(a));
  });
});
