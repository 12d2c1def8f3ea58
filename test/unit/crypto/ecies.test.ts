/** ECIES against known vectors. */
import { describe, expect, test } from "bun:test";
import { ECIES_MIN_LENGTH, eciesDecrypt, eciesEncrypt } from "../../../src/crypto/ecies.ts";
import { generatePrivateKey, publicKeyOf } from "../../../src/crypto/keys.ts";
import { hex, toHex, V } from "./vectors.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("ECIES (eph pub 65 ‖ iv 12 ‖ ct ‖ tag 16; HKDF-SHA256 over shared X)", () => {
  test.each(V.ecies.map((v, i) => ({ ...v, i })))("vector $i decrypts to the known plaintext", (v) => {
    const plain = eciesDecrypt(hex(v.server_private_key), hex(v.ciphertext));
    expect(new TextDecoder().decode(plain)).toBe(v.plaintext);
  });

  test.each(V.ecies.map((v, i) => ({ ...v, i })))(
    "vector $i: encrypt with the same ephemeral key and iv gives the same bytes",
    (v) => {
      const out = eciesEncrypt(hex(v.server_public_key), utf8(v.plaintext), {
        ephemeralPrivateKey: hex(v.ephemeral_private_key),
        iv: hex(v.iv),
      });
      expect(toHex(out)).toBe(v.ciphertext);
    },
  );

  test("round trip with random ephemeral key and iv; two encryptions differ", () => {
    const key = generatePrivateKey();
    const a = eciesEncrypt(publicKeyOf(key), utf8("connection details"));
    const b = eciesEncrypt(publicKeyOf(key), utf8("connection details"));
    expect(toHex(a)).not.toBe(toHex(b));
    expect(a.length).toBe(ECIES_MIN_LENGTH + "connection details".length);
    expect(new TextDecoder().decode(eciesDecrypt(key, a))).toBe("connection details");
  });

  test("the wrong private key fails", () => {
    const v = V.ecies[1]!;
    expect(() => eciesDecrypt(hex(V.ecies[0]!.server_private_key), hex(v.ciphertext))).toThrow(
      /wrong private key or tampered/,
    );
  });

  test.each([
    ["iv", 65],
    ["ciphertext", 65 + 12],
    ["tag", -1],
  ])("a flipped bit in the %s is detected", (_part, at) => {
    const v = V.ecies[3]!;
    const data = hex(v.ciphertext);
    const i = at < 0 ? data.length + at : at;
    data[i]! ^= 0x01;
    expect(() => eciesDecrypt(hex(v.server_private_key), data)).toThrow(/tampered/);
  });

  test("a tampered ephemeral key is detected", () => {
    const v = V.ecies[3]!;
    const data = hex(v.ciphertext);
    data[10]! ^= 0x01;
    expect(() => eciesDecrypt(hex(v.server_private_key), data)).toThrow(/not a point|tampered/);
  });

  test("too short and wrong prefix are refused", () => {
    const key = hex(V.ecies[0]!.server_private_key);
    expect(() => eciesDecrypt(key, new Uint8Array(ECIES_MIN_LENGTH - 1))).toThrow(/too short: 92 bytes, at least 93/);
    expect(() => eciesDecrypt(key, new Uint8Array(ECIES_MIN_LENGTH))).toThrow(/uncompressed ephemeral/);
  });
});
