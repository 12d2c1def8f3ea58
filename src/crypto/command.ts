/** `blockhost crypto`: the original `bhcrypt` (ECIES and signature-keyed AES). */
import { writeFileSync } from "node:fs";
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { assertOneStdin, exactlyOne, readInput, readTextInput } from "../core/input.ts";
import { paths } from "../core/paths.ts";
import { writeOut } from "../core/stdio.ts";
import { bytesToHexPlain, hexToBytesStrict } from "./hex.ts";
import {
  addressOfPublicKey,
  generatePrivateKey,
  parsePrivateKey,
  parsePublicKey,
  privateKeyHex,
  publicKeyHex,
  publicKeyOf,
} from "./keys.ts";

/**
 * `blockhost crypto …`: the original `bhcrypt`. The AES and ECIES modules are imported by the commands that
 * use them (AES builds its tables when loaded, which a key derivation should not pay for). Secrets (keys, signatures) come from files or stdin, never argv. */

const KEY_MAX = 4096;
const out = writeOut;

const privateKeyFile = (fallback?: string) => ({
  "private-key-file": {
    type: "string" as const,
    required: !fallback,
    description: `file holding the hex private key, or - for stdin${fallback ? ` (default: ${fallback})` : ""}`,
  },
});
const signatureFile = {
  "signature-file": {
    type: "string" as const,
    required: true as const,
    description: "file holding the 65-byte hex wallet signature (the key), or - for stdin",
  },
};
const plaintextArgs = {
  plaintext: {
    type: "string" as const,
    description: "the text to encrypt (not for secrets: argv is visible to other users)",
  },
  "plaintext-file": { type: "string" as const, description: "file to encrypt, or - for stdin" },
};
const ciphertextArgs = {
  ciphertext: { type: "string" as const, description: "hex ciphertext (optional 0x)" },
  "ciphertext-file": { type: "string" as const, description: "file holding the hex ciphertext, or - for stdin" },
};

async function readPrivateKey(file: string): Promise<Uint8Array> {
  return parsePrivateKey(
    await readTextInput(file, "private key", KEY_MAX),
    file === "-" ? "private key on stdin" : `private key in ${file}`,
  );
}

async function readPlaintext(args: { plaintext?: string; "plaintext-file"?: string }): Promise<Uint8Array> {
  const which = exactlyOne(args, "plaintext", "plaintext-file");
  return which === "plaintext"
    ? new TextEncoder().encode(args.plaintext)
    : readInput(args["plaintext-file"]!, "plaintext");
}

async function readCiphertextHex(args: { ciphertext?: string; "ciphertext-file"?: string }): Promise<string> {
  const which = exactlyOne(args, "ciphertext", "ciphertext-file");
  return which === "ciphertext"
    ? args.ciphertext!
    : (await readTextInput(args["ciphertext-file"]!, "ciphertext")).trim();
}

const generateKeypair = defineCommand({
  meta: {
    name: "generate-keypair",
    description: "Print a new secp256k1 private key (hex), or write it to a new 0600 file",
  },
  args: {
    output: { type: "string", description: "write the private key to this new file (mode 0600) instead of stdout" },
    "show-pubkey": { type: "boolean", description: "also print the uncompressed public key (04…)" },
  },
  async run({ args }) {
    const key = generatePrivateKey();
    if (args.output) {
      try {
        writeFileSync(args.output, `${privateKeyHex(key)}\n`, { mode: 0o600, flag: "wx" });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new BlockhostError(
          code === "EEXIST" ? "E_CONFLICT" : "E_IO",
          `${args.output}: ${code === "EEXIST" ? "already exists; refusing to overwrite a key" : `cannot write (${code})`}`,
        );
      }
    } else {
      await out(`${privateKeyHex(key)}\n`);
    }
    if (args["show-pubkey"]) await out(`${publicKeyHex(publicKeyOf(key))}\n`);
  },
});

const derivePubkey = defineCommand({
  meta: { name: "derive-pubkey", description: "Print the uncompressed public key (04…) of a private key" },
  args: privateKeyFile(),
  async run({ args }) {
    await out(`${publicKeyHex(publicKeyOf(await readPrivateKey(args["private-key-file"]!)))}\n`);
  },
});

const keyToAddress = defineCommand({
  meta: {
    name: "key-to-address",
    description: "Print the EIP-55 address of a private key (from a file) or of a public key",
  },
  args: {
    "private-key-file": { type: "string", description: "file holding the hex private key, or - for stdin" },
    "public-key": { type: "string", description: "uncompressed (04…) or compressed public key, hex" },
  },
  async run({ args }) {
    const which = exactlyOne(args, "private-key-file", "public-key");
    const pub =
      which === "public-key"
        ? parsePublicKey(args["public-key"]!)
        : publicKeyOf(await readPrivateKey(args["private-key-file"]!));
    await out(`${addressOfPublicKey(pub)}\n`);
  },
});

const encryptSymmetric = defineCommand({
  meta: {
    name: "encrypt-symmetric",
    description: "AES-256-GCM with key keccak256(signature); prints 0x‖nonce‖ct‖tag (no newline)",
  },
  args: { ...signatureFile, ...plaintextArgs },
  async run({ args }) {
    assertOneStdin(args["signature-file"], args["plaintext-file"]);
    const signature = await readTextInput(args["signature-file"], "signature", KEY_MAX);
    const { encryptWithSignature } = await import("./symmetric.ts");
    await out(encryptWithSignature(signature, await readPlaintext(args)));
  },
});

const decryptSymmetric = defineCommand({
  meta: {
    name: "decrypt-symmetric",
    description: "Decrypt encrypt-symmetric output with the same signature; prints the plaintext as is",
  },
  args: { ...signatureFile, ...ciphertextArgs },
  async run({ args }) {
    assertOneStdin(args["signature-file"], args["ciphertext-file"]);
    const signature = await readTextInput(args["signature-file"], "signature", KEY_MAX);
    const { decryptWithSignature } = await import("./symmetric.ts");
    await out(decryptWithSignature(signature, await readCiphertextHex(args)));
  },
});

const encrypt = defineCommand({
  meta: {
    name: "encrypt",
    description: "ECIES-encrypt to a secp256k1 public key; prints 0x‖eph pub‖iv‖ct‖tag (no newline)",
  },
  args: {
    "public-key": { type: "string", description: "recipient public key, hex (04… or compressed)" },
    "public-key-file": {
      type: "string",
      description: "file holding the recipient public key (default: <root>/etc/blockhost/server.pubkey)",
    },
    ...plaintextArgs,
  },
  async run({ args }) {
    assertOneStdin(args["public-key-file"], args["plaintext-file"]);
    if (args["public-key"] && args["public-key-file"])
      throw new BlockhostError("E_USAGE", "give only one of --public-key, --public-key-file");
    const pubText =
      args["public-key"] ?? (await readTextInput(args["public-key-file"] ?? paths.serverPubkey, "public key", KEY_MAX));
    const pub = parsePublicKey(pubText);
    const { eciesEncrypt } = await import("./ecies.ts");
    await out(`0x${bytesToHexPlain(eciesEncrypt(pub, await readPlaintext(args)))}`);
  },
});

const decrypt = defineCommand({
  meta: {
    name: "decrypt",
    description: "ECIES-decrypt with a private key read from a file; prints the plaintext as is",
  },
  args: { ...privateKeyFile("<root>/etc/blockhost/server.key"), ...ciphertextArgs },
  async run({ args }) {
    const keyFile = args["private-key-file"] ?? paths.serverKey;
    assertOneStdin(keyFile, args["ciphertext-file"]);
    const key = await readPrivateKey(keyFile);
    const { eciesDecrypt } = await import("./ecies.ts");
    await out(eciesDecrypt(key, hexToBytesStrict(await readCiphertextHex(args), "ciphertext")));
  },
});

export default defineCommand({
  meta: { name: "crypto", description: "Keys and the BlockHost encryption formats (the original bhcrypt)" },
  subCommands: {
    "generate-keypair": generateKeypair,
    "derive-pubkey": derivePubkey,
    "key-to-address": keyToAddress,
    "encrypt-symmetric": encryptSymmetric,
    "decrypt-symmetric": decryptSymmetric,
    encrypt,
    decrypt,
  },
});
