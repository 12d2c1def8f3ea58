/** The broker's ECIES format (eciesrs 0.2): the crate's own key-derivation vector, its AES vector, and round trips. */
import { expect, test } from "bun:test";
import { gcm } from "@noble/ciphers/aes.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "viem";
import { brokerEciesDecrypt, brokerEciesEncrypt, brokerEciesKey } from "../../../src/crypto/ecies-broker.ts";
import { publicKeyOf } from "../../../src/crypto/keys.ts";

const scalar = (n: number) => {
  const k = new Uint8Array(32);
  k[31] = n;
  return k;
};

test("key derivation matches the ecies crate's test vector (sk 2 encapsulating to pk 3)", () => {
  const two = scalar(2);
  const three = scalar(3);
  const key = brokerEciesKey(publicKeyOf(two), secp256k1.getSharedSecret(two, publicKeyOf(three), false));
  expect(bytesToHex(key)).toBe("0x6f982d63e8590c9d9b5b4c1959ff80315d772edd8f60287c9361d548d5200f82");
});

test("the body is nonce(16) ‖ tag(16) ‖ ciphertext, as in the crate's known AES answer", () => {
  // eciesrs: key 0…0, iv f3e1…, tag ec3b…, ciphertext 02d2… decrypts to "helloworld".
  const key = new Uint8Array(32);
  const nonce = hexToBytes("0xf3e1ba810d2c8900b11312b7c725565f");
  const sealed = gcm(key, nonce).encrypt(new TextEncoder().encode("helloworld"));
  expect(bytesToHex(sealed.subarray(0, 10))).toBe("0x02d2ffed93b856f148b9");
  expect(bytesToHex(sealed.subarray(10))).toBe("0xec3b71e17c11dbe31484da9450edcf6c");
});

test("round trip, layout, and a clear error for the wrong key or a cut message", () => {
  const broker = scalar(7);
  const msg = new TextEncoder().encode(JSON.stringify({ wgPubkey: "x", nftContract: "0x1", serverPubkey: "0x04" }));
  const nonce = new Uint8Array(16).fill(9);
  const ct = brokerEciesEncrypt(publicKeyOf(broker), msg, { ephemeralPrivateKey: scalar(5), nonce });
  expect(ct.length).toBe(65 + 16 + 16 + msg.length);
  expect(bytesToHex(ct.subarray(0, 65))).toBe(bytesToHex(publicKeyOf(scalar(5))));
  expect(bytesToHex(ct.subarray(65, 81))).toBe(bytesToHex(nonce));
  expect(new TextDecoder().decode(brokerEciesDecrypt(broker, ct))).toBe(new TextDecoder().decode(msg));
  expect(() => brokerEciesDecrypt(scalar(8), ct)).toThrow("does not open with this key");
  expect(() => brokerEciesDecrypt(broker, ct.subarray(0, 90))).toThrow("too short");
});
