/** The CLI's own EIP-55 and EIP-191 recovery (noble, without viem) agree with viem's on random keys. */
import { describe, expect, test } from "bun:test";
import { getAddress, recoverMessageAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  addressOfPrivateKey,
  generatePrivateKey,
  privateKeyHex,
  recoverMessageSigner,
} from "../../../src/crypto/keys.ts";

describe("keys without viem", () => {
  test("addresses are EIP-55 checksummed exactly as viem does it", () => {
    for (let i = 0; i < 20; i++) {
      const key = generatePrivateKey();
      const account = privateKeyToAccount(`0x${privateKeyHex(key)}`);
      expect(addressOfPrivateKey(key)).toBe(account.address);
      expect(getAddress(account.address.toLowerCase())).toBe(addressOfPrivateKey(key));
    }
  });

  test("recovers the personal_sign signer, with v as 27/28 or 0/1", async () => {
    for (let i = 0; i < 5; i++) {
      const account = privateKeyToAccount(`0x${privateKeyHex(generatePrivateKey())}`);
      const message = `Authenticate to vm-${i} with code: 12345${i}`;
      const signature = await account.signMessage({ message });
      expect(recoverMessageSigner(message, signature)).toBe(account.address);
      expect(await recoverMessageAddress({ message, signature })).toBe(account.address);
      const v01 = `${signature.slice(0, 130)}${(Number.parseInt(signature.slice(130), 16) - 27).toString(16).padStart(2, "0")}`;
      expect(recoverMessageSigner(message, v01)).toBe(account.address);
      expect(recoverMessageSigner(`${message}!`, signature)).not.toBe(account.address);
    }
  });

  test("a malformed signature is refused with a one-line error", () => {
    expect(() => recoverMessageSigner("x", `0x${"00".repeat(64)}1f`)).toThrow("invalid recovery byte");
    expect(() => recoverMessageSigner("x", `0x${"00".repeat(64)}1b`)).toThrow("does not recover");
    expect(() => recoverMessageSigner("x", "0x1234")).toThrow();
  });
});
