/** Signature-keyed AES-GCM against known vectors. */
import { describe, expect, test } from "bun:test";
import { decryptWithSignature, encryptWithSignature, keyFromSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import { hex, toHex, V } from "./vectors.ts";

describe("signature-keyed AES-256-GCM (key = keccak256(65-byte signature))", () => {
  test.each(V.symmetric.map((v, i) => ({ ...v, i })))(
    "vector $i: key, decryption and deterministic encryption",
    (v) => {
      expect(toHex(keyFromSignature(v.signature))).toBe(v.key);
      expect(utf8(decryptWithSignature(v.signature, v.ciphertext))).toBe(v.plaintext);
      expect(encryptWithSignature(v.signature, v.plaintext, hex(v.nonce))).toBe(v.ciphertext as `0x${string}`);
    },
  );

  test("signature and ciphertext are accepted with or without 0x", () => {
    const v = V.symmetric[3]!;
    expect(utf8(decryptWithSignature(v.signature.slice(2), v.ciphertext.slice(2)))).toBe(v.plaintext);
  });

  test("round trip with a random nonce; output is 0x ‖ nonce ‖ ct ‖ tag", () => {
    const sig = V.symmetric[0]!.signature;
    const out = encryptWithSignature(sig, "héllo");
    expect(out).toMatch(/^0x[0-9a-f]+$/);
    expect((out.length - 2) / 2).toBe(12 + 6 + 16);
    expect(out).not.toBe(encryptWithSignature(sig, "héllo"));
    expect(utf8(decryptWithSignature(sig, out))).toBe("héllo");
  });

  test("the wrong signature fails", () => {
    const v = V.symmetric[3]!;
    expect(() => decryptWithSignature(V.symmetric[2]!.signature, v.ciphertext)).toThrow(/wrong signature or tampered/);
  });

  test("tampering anywhere is detected", () => {
    const v = V.symmetric[3]!;
    for (const i of [0, 12, 30]) {
      const data = hex(v.ciphertext);
      data[i]! ^= 0x80;
      expect(() => decryptWithSignature(v.signature, `0x${toHex(data)}`)).toThrow(/tampered/);
    }
  });

  test("bad inputs are refused with a clear message", () => {
    expect(() => keyFromSignature(`0x${"ab".repeat(64)}`)).toThrow(/signature must be 65 bytes/);
    expect(() => decryptWithSignature(V.symmetric[0]!.signature, `0x${"00".repeat(27)}`)).toThrow(
      /too short: 27 bytes, at least 28/,
    );
    expect(() => decryptWithSignature(V.symmetric[0]!.signature, "0xabc")).toThrow(/ciphertext is not hex/);
  });
});
