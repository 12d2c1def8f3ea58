/** The purchase payload: the buyer's signature, and optionally the OS they chose, ECIES-encrypted to the server key. */
import { expect, test } from "bun:test";
import { bytesToHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { eciesEncrypt } from "../../../src/crypto/ecies.ts";
import { publicKeyOf } from "../../../src/crypto/keys.ts";
import { readPayload } from "../../../src/engine/payload.ts";

const serverKey = crypto.getRandomValues(new Uint8Array(32));
const sealed = (text: string) => bytesToHex(eciesEncrypt(publicKeyOf(serverKey), new TextEncoder().encode(text)));

test("a signature alone (older pages) has no OS; a second line os=<id> carries the buyer's choice", async () => {
  const signature = await privateKeyToAccount(generatePrivateKey()).signMessage({ message: "blockhost-access" });
  expect(readPayload(serverKey, sealed(signature))).toEqual({ signature, problem: null });
  expect(readPayload(serverKey, sealed(`${signature}\nos=debian-13`))).toEqual({
    signature,
    problem: null,
    os: "debian-13",
  });
  for (const junk of [`${signature}\nrm -rf /`, `${signature}\nos=debian-13\nmore`, `${signature}\nos=<b>`])
    expect(readPayload(serverKey, sealed(junk))).toMatchObject({
      signature: null,
      problem: "decrypted payload is not a 65-byte hex signature",
    });
});
