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
    valueHint: "FILE",
    description: `File holding the private key in hex, or - for standard input${fallback ? ` (default: ${fallback})` : ""}`,
  },
});
const signatureFile = {
  "signature-file": {
    type: "string" as const,
    required: true as const,
    valueHint: "FILE",
    description: "File holding the wallet's 65-byte hex signature the key comes from, or - for standard input",
  },
};
const plaintextArgs = {
  plaintext: {
    type: "string" as const,
    valueHint: "TEXT",
    description: "Text to encrypt (not for secrets: other users can see command lines)",
  },
  "plaintext-file": {
    type: "string" as const,
    valueHint: "FILE",
    description: "File to encrypt, or - for standard input",
  },
};
const ciphertextArgs = {
  ciphertext: { type: "string" as const, valueHint: "HEX", description: "The ciphertext in hex (0x optional)" },
  "ciphertext-file": {
    type: "string" as const,
    valueHint: "FILE",
    description: "File holding the ciphertext in hex, or - for standard input",
  },
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
    description: "Make a new private key (secp256k1, as Ethereum wallets use) and print it or write it to a new file",
    examples: ["blockhost crypto generate-keypair --output /root/new.key --show-pubkey"],
  },
  args: {
    output: {
      type: "string",
      valueHint: "FILE",
      description: "Write the key to this new file (mode 0600) instead of printing it",
    },
    "show-pubkey": { type: "boolean", description: "Also print the public key (uncompressed, 04…)" },
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
  meta: {
    name: "derive-pubkey",
    description: "Print the public key (uncompressed, 04…) of a private key",
    examples: ["blockhost crypto derive-pubkey --private-key-file /etc/blockhost/server.key"],
  },
  args: privateKeyFile(),
  async run({ args }) {
    await out(`${publicKeyHex(publicKeyOf(await readPrivateKey(args["private-key-file"]!)))}\n`);
  },
});

const keyToAddress = defineCommand({
  meta: {
    name: "key-to-address",
    description: "Print the wallet address (EIP-55 checksummed) of a private key or of a public key",
    examples: [
      "blockhost crypto key-to-address --private-key-file /etc/blockhost/server.key",
      "blockhost crypto key-to-address --public-key 04…",
    ],
  },
  args: {
    "private-key-file": {
      type: "string",
      valueHint: "FILE",
      description: "File holding the private key in hex, or - for standard input",
    },
    "public-key": {
      type: "string",
      valueHint: "HEX",
      description: "A public key in hex, uncompressed (04…) or compressed",
    },
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
    description:
      "Encrypt with a key made from a wallet signature, as the NFT's connection details are (AES-256-GCM); prints hex",
    examples: ["blockhost crypto encrypt-symmetric --signature-file sig.txt --plaintext-file details.json"],
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
    description: "Decrypt what encrypt-symmetric made, with the same signature; prints the text as it was",
    examples: ["blockhost crypto decrypt-symmetric --signature-file sig.txt --ciphertext-file details.hex"],
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
    description:
      "Encrypt for the holder of a private key (ECIES on secp256k1), as the signup page does for the host; prints hex",
    examples: [
      "blockhost crypto encrypt --plaintext-file secret.txt",
      "blockhost crypto encrypt --public-key 04… --plaintext hi",
    ],
  },
  args: {
    "public-key": {
      type: "string",
      valueHint: "HEX",
      description: "The receiver's public key in hex (04… or compressed)",
    },
    "public-key-file": {
      type: "string",
      valueHint: "FILE",
      description: "File holding the receiver's public key (default: the host's, /etc/blockhost/server.pubkey)",
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
    description: "Decrypt what encrypt made, with the private key; prints the text as it was",
    examples: ["blockhost crypto decrypt --ciphertext-file secret.hex"],
  },
  args: { ...privateKeyFile("the host's, /etc/blockhost/server.key"), ...ciphertextArgs },
  async run({ args }) {
    const keyFile = args["private-key-file"] ?? paths.serverKey;
    assertOneStdin(keyFile, args["ciphertext-file"]);
    const key = await readPrivateKey(keyFile);
    const { eciesDecrypt } = await import("./ecies.ts");
    await out(eciesDecrypt(key, hexToBytesStrict(await readCiphertextHex(args), "ciphertext")));
  },
});

export default defineCommand({
  meta: {
    name: "crypto",
    description: "Make keys, and encrypt or decrypt in the formats BlockHost's contracts and pages use",
    examples: ["blockhost crypto generate-keypair"],
  },
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
