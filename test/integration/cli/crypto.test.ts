/** `blockhost crypto` through the binary. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";
import { V } from "../../unit/crypto/vectors.ts";

/** `blockhost crypto …` end to end through the compiled binary, against the Python-made vectors. */
let tmp: { dir: string; cleanup: () => void };
const file = (name: string, text: string) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
};
const crypto = (args: string[], opts: { stdin?: string } = {}) =>
  runBlockhost(["crypto", ...args], { root: tmp.dir, ...opts });

beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

describe("blockhost crypto: keys", () => {
  test("generate-keypair --output writes a 0600 key file, refuses to overwrite it, and derives consistently", async () => {
    const keyFile = join(tmp.dir, "new.key");
    const gen = await crypto(["generate-keypair", "--output", keyFile, "--show-pubkey"]);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toMatch(/^04[0-9a-f]{128}\n$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const derived = await crypto(["derive-pubkey", "--private-key-file", keyFile]);
    expect(derived.stdout).toBe(gen.stdout);
    const again = await crypto(["generate-keypair", "--output", keyFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  });

  test("generate-keypair prints a private key, and --show-pubkey its public key on a second line", async () => {
    const r = await crypto(["generate-keypair", "--show-pubkey"]);
    expect(r.code).toBe(0);
    const [priv, pub] = r.stdout.trimEnd().split("\n");
    expect(priv).toMatch(/^[0-9a-f]{64}$/);
    const derived = await crypto(["derive-pubkey", "--private-key-file", "-"], { stdin: priv });
    expect(derived.stdout.trim()).toBe(pub!);
  });

  test.each(V.keys.slice(2, 5))("derive-pubkey and key-to-address of $address", async (v) => {
    const keyFile = file(`k-${v.address}.key`, `${v.private_key}\n`);
    expect((await crypto(["derive-pubkey", "--private-key-file", keyFile])).stdout).toBe(`${v.public_key}\n`);
    expect((await crypto(["key-to-address", "--private-key-file", keyFile])).stdout).toBe(`${v.address}\n`);
    expect((await crypto(["key-to-address", "--public-key", v.public_key])).stdout).toBe(`${v.address}\n`);
  });
});

describe("blockhost crypto: ECIES", () => {
  test.each(V.ecies.map((v, i) => ({ ...v, i })))("decrypt vector $i with the key from a file", async (v) => {
    const keyFile = file(`server-${v.i}.key`, v.server_private_key);
    const r = await crypto(["decrypt", "--private-key-file", keyFile, "--ciphertext", `0x${v.ciphertext}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v.plaintext);
  });

  test("decrypt defaults to <root>/etc/blockhost/server.key; ciphertext from stdin", async () => {
    const v = V.ecies[3]!;
    mkdirSync(join(tmp.dir, "etc/blockhost"), { recursive: true });
    writeFileSync(join(tmp.dir, "etc/blockhost/server.key"), `${v.server_private_key}\n`, { mode: 0o640 });
    const r = await crypto(["decrypt", "--ciphertext-file", "-"], { stdin: `${v.ciphertext}\n` });
    expect(r.stdout).toBe(v.plaintext);
  });

  test("encrypt to a public key, then decrypt: round trip; output is 0x-hex with no newline", async () => {
    const v = V.ecies[0]!;
    const enc = await crypto(["encrypt", "--public-key", v.server_public_key, "--plaintext", "ssh details ✓"]);
    expect(enc.code).toBe(0);
    expect(enc.stdout).toMatch(/^0x04[0-9a-f]+$/);
    const dec = await crypto([
      "decrypt",
      "--private-key-file",
      file("rt.key", v.server_private_key),
      "--ciphertext",
      enc.stdout,
    ]);
    expect(dec.stdout).toBe("ssh details ✓");
  });

  test("a tampered ciphertext or the wrong key fails with one line and exit 1", async () => {
    const v = V.ecies[3]!;
    const tampered = v.ciphertext.slice(0, -2) + (v.ciphertext.endsWith("00") ? "01" : "00");
    const bad = await crypto([
      "decrypt",
      "--private-key-file",
      file("t.key", v.server_private_key),
      "--ciphertext",
      tampered,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "blockhost crypto decrypt: ECIES decryption failed: wrong private key or tampered ciphertext\n",
    );
    expect(bad.stdout).toBe("");
    const wrong = await crypto([
      "decrypt",
      "--private-key-file",
      file("w.key", V.ecies[0]!.server_private_key),
      "--ciphertext",
      v.ciphertext,
    ]);
    expect(wrong.code).toBe(1);
  });
});

describe("blockhost crypto: signature-keyed AES-GCM", () => {
  test.each(V.symmetric.map((v, i) => ({ ...v, i })))("decrypt-symmetric vector $i", async (v) => {
    const r = await crypto([
      "decrypt-symmetric",
      "--signature-file",
      file(`sig-${v.i}`, `${v.signature}\n`),
      "--ciphertext",
      v.ciphertext,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(v.plaintext);
  });

  test("encrypt-symmetric prints raw 0x… (no newline) that decrypt-symmetric reverses; signature from stdin", async () => {
    const v = V.symmetric[3]!;
    const sig = file("sig-rt", v.signature);
    const enc = await crypto(["encrypt-symmetric", "--signature-file", "-", "--plaintext", v.plaintext], {
      stdin: v.signature,
    });
    expect(enc.stdout).toMatch(/^0x[0-9a-f]{56,}$/);
    expect((enc.stdout.length - 2) / 2).toBe(12 + Buffer.byteLength(v.plaintext) + 16);
    const dec = await crypto([
      "decrypt-symmetric",
      "--signature-file",
      sig,
      "--ciphertext-file",
      file("ct", enc.stdout),
    ]);
    expect(dec.stdout).toBe(v.plaintext);
  });

  test("an empty plaintext is a valid message (28-byte ciphertext)", async () => {
    const sig = file("sig-empty", V.symmetric[0]!.signature);
    const enc = await crypto(["encrypt-symmetric", "--signature-file", sig, "--plaintext", ""]);
    expect(enc.stdout).toMatch(/^0x[0-9a-f]{56}$/);
    const dec = await crypto(["decrypt-symmetric", "--signature-file", sig, "--ciphertext", enc.stdout]);
    expect(dec.code).toBe(0);
    expect(dec.stdout).toBe("");
  });

  test("the wrong signature fails with exit 1", async () => {
    const v = V.symmetric[3]!;
    const r = await crypto([
      "decrypt-symmetric",
      "--signature-file",
      file("sig-wrong", V.symmetric[2]!.signature),
      "--ciphertext",
      v.ciphertext,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/wrong signature or tampered/);
  });
});

describe("blockhost crypto: usage", () => {
  test.each([
    [["decrypt", "--private-key", "00"], /unknown option --private-key/],
    [["encrypt-symmetric", "--signature", "0x00", "--plaintext", "x"], /unknown option --signature/],
    [["decrypt-symmetric", "--signature-file", "-", "--ciphertext-file", "-"], /only one input can be read from stdin/],
    [["encrypt", "--public-key", "04ab", "--plaintext", "x"], /public key must be 65 bytes/],
    [["key-to-address"], /exactly one of --private-key-file, --public-key/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ] as const)("%j → exit 2 and one line", async (args, message) => {
    const r = await crypto([...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(1);
  });

  test("a missing key file names the file, exit 1", async () => {
    const r = await crypto(["derive-pubkey", "--private-key-file", join(tmp.dir, "nope.key")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.key: no such file/);
  });

  test("--help lists every subcommand", async () => {
    const r = await crypto(["--help"]);
    expect(r.code).toBe(0);
    for (const c of [
      "generate-keypair",
      "derive-pubkey",
      "key-to-address",
      "encrypt-symmetric",
      "decrypt-symmetric",
      "encrypt",
      "decrypt",
    ])
      expect(r.stdout).toContain(c);
  });
});
