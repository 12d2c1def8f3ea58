/** Load the crypto test vectors. */
import vectors from "../../fixtures/crypto/vectors.json";

/** Known-answer vectors from test/fixtures/crypto/make_vectors.py (Python `cryptography`, not our code). */
export const V = vectors as {
  keys: Array<{ private_key: string; public_key: string; address: string }>;
  ecies: Array<{
    server_private_key: string;
    server_public_key: string;
    ephemeral_private_key: string;
    iv: string;
    plaintext: string;
    ciphertext: string;
  }>;
  symmetric: Array<{ signature: string; key: string; nonce: string; plaintext: string; ciphertext: string }>;
};

export const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/^0x/, ""), "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
