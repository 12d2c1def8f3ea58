/** Admin wallet commands signed by the server wallet: stablecoin, plans, NFT payloads. */
import { defineCommand } from "citty";
import { parseEventLogs, type Hex } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { assertOneStdin, exactlyOne, readTextInput } from "../core/input.ts";
import { addressArg } from "../core/address.ts";
import { contractAddress } from "../chain/context.ts";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi as subsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "../chain/errors.ts";
import { parseTokenId } from "../chain/mint.ts";
import { writeAndWait } from "../chain/tx.ts";
import { encryptWithSignature } from "../crypto/symmetric.ts";
import { WalletEnv } from "./env.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);
const PLAN_NAME_RE = /^[\x20-\x7e]{1,64}$/;
const HEX_PAYLOAD_RE = /^0x(?:[0-9a-fA-F]{2}){0,65536}$/;

export const configStable = defineCommand({
  meta: {
    name: "stable",
    description: "Show the stablecoin customers pay with, or set it (signed by the server wallet)",
    examples: [
      "blockhost wallet config stable",
      "blockhost wallet config stable 0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238",
    ],
  },
  args: {
    address: {
      type: "positional",
      required: false,
      valueHint: "TOKEN",
      description: "0x address of the ERC-20 stablecoin to accept (payment method 1)",
    },
  },
  async run({ args }) {
    const env = WalletEnv.load();
    if (args.address === undefined) {
      const current = await onChain("getPrimaryStablecoin", () =>
        env.access.publicClient.readContract({
          address: env.subscriptions,
          abi: subsAbi,
          functionName: "getPrimaryStablecoin",
        }),
      );
      if (/^0x0{40}$/.test(current)) throw new BlockhostError("E_NOT_FOUND", "no primary stablecoin is set");
      say(current);
      return;
    }
    const token = addressArg(args.address, "token address");
    const { hash } = await writeAndWait(
      env.access,
      env.server(),
      {
        address: env.subscriptions,
        abi: subsAbi,
        functionName: "setPrimaryStablecoin",
        args: [token],
      },
      "setPrimaryStablecoin",
    );
    say(hash);
  },
});

export const planCreate = defineCommand({
  meta: {
    name: "create",
    description: "Create a subscription plan with a daily price (signed by the server wallet); prints the plan id",
    examples: ['blockhost wallet plan create "Basic VM" 100'],
  },
  args: {
    name: {
      type: "positional",
      required: true,
      valueHint: "NAME",
      description: "Name customers see (up to 64 printable ASCII characters)",
    },
    price: {
      type: "positional",
      required: true,
      valueHint: "CENTS",
      description: "Price in US cents per day, e.g. 100 for $1.00 a day",
    },
  },
  async run({ args }) {
    if (!PLAN_NAME_RE.test(args.name))
      throw new BlockhostError("E_USAGE", "plan name: expected 1..64 printable ASCII characters");
    if (!/^[1-9]\d{0,17}$/.test(args.price))
      throw new BlockhostError(
        "E_USAGE",
        `price: expected a positive whole number of cents, got "${args.price.slice(0, 30)}"`,
      );
    const env = WalletEnv.load();
    const { receipt } = await writeAndWait(
      env.access,
      env.server(),
      { address: env.subscriptions, abi: subsAbi, functionName: "createPlan", args: [args.name, BigInt(args.price)] },
      "createPlan",
    );
    const [created] = parseEventLogs({ abi: subsAbi, logs: receipt.logs, eventName: "PlanCreated", strict: true });
    if (!created)
      throw new BlockhostError("E_CHAIN", `createPlan ${receipt.transactionHash} emitted no PlanCreated event`);
    say(created.args.planId.toString());
  },
});

/** The payload for `set encrypt`: given as hex, or encrypted here with a wallet signature (the NFT format). */
async function encryptPayload(args: {
  data?: string;
  "signature-file"?: string;
  plaintext?: string;
  "plaintext-file"?: string;
}): Promise<Hex> {
  if (args["signature-file"] === undefined) {
    if (args.plaintext !== undefined || args["plaintext-file"] !== undefined)
      throw new BlockhostError("E_USAGE", "--plaintext/--plaintext-file need --signature-file");
    if (args.data === undefined)
      throw new BlockhostError(
        "E_USAGE",
        "give the 0x payload, or --signature-file with --plaintext or --plaintext-file",
      );
    if (!HEX_PAYLOAD_RE.test(args.data))
      throw new BlockhostError(
        "E_USAGE",
        "payload: expected 0x followed by an even number of hex digits (at most 64 KiB)",
      );
    return args.data as Hex;
  }
  if (args.data !== undefined)
    throw new BlockhostError("E_USAGE", "give either the 0x payload or --signature-file, not both");
  assertOneStdin(args["signature-file"], args["plaintext-file"]);
  const signature = (await readTextInput(args["signature-file"], "signature", 4096)).trim();
  const which = exactlyOne(args, "plaintext", "plaintext-file");
  const plaintext =
    which === "plaintext" ? args.plaintext! : await readTextInput(args["plaintext-file"]!, "plaintext", 16_384);
  return encryptWithSignature(signature, plaintext);
}

export const setEncrypt = defineCommand({
  meta: {
    name: "encrypt",
    description:
      "Replace the encrypted connection details stored in an access NFT (signed by the server wallet); prints the transaction hash",
    usage: [
      "blockhost wallet set encrypt <TOKEN_ID> <HEX>",
      "blockhost wallet set encrypt <TOKEN_ID> --signature-file <FILE> --plaintext-file <FILE>",
    ],
    examples: [
      "blockhost wallet set encrypt 3 0x1234",
      'blockhost wallet set encrypt 3 --signature-file sig.txt --plaintext \'{"hostname":"web1"}\'',
    ],
  },
  args: {
    token: { type: "positional", required: true, valueHint: "TOKEN_ID", description: "The NFT's token id" },
    data: {
      type: "positional",
      required: false,
      valueHint: "HEX",
      description: "Already encrypted details as 0x hex (or let this command encrypt, with the options below)",
    },
    "signature-file": {
      type: "string",
      valueHint: "FILE",
      description: "Encrypt with the key from the holder's 65-byte hex signature in FILE (- for standard input)",
    },
    plaintext: {
      type: "string",
      valueHint: "TEXT",
      description: 'Connection details to encrypt, e.g. {"hostname": …} (visible to other users: prefer a file)',
    },
    "plaintext-file": { type: "string", valueHint: "FILE", description: "File (or - for standard input) to encrypt" },
  },
  async run({ args }) {
    const tokenId = parseTokenId(args.token);
    if (tokenId === undefined)
      throw new BlockhostError("E_USAGE", `expected a token id, got "${args.token.slice(0, 30)}"`);
    const payload = await encryptPayload(args);
    const env = WalletEnv.load();
    const nft = contractAddress(env.web3, "nft");
    const { hash } = await writeAndWait(
      env.access,
      env.server(),
      { address: nft, abi: accessCredentialNftAbi, functionName: "updateUserEncrypted", args: [tokenId, payload] },
      "updateUserEncrypted",
    );
    say(hash);
  },
});
