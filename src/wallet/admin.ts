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
  meta: { name: "stable", description: "Show the primary stablecoin, or set it (signed by the server wallet)" },
  args: {
    address: { type: "positional", required: false, description: "0x ERC20 address to set as payment method 1" },
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
    description: "Create a plan priced in USD cents per day (signed by the server wallet); prints the plan id",
  },
  args: {
    name: { type: "positional", required: true, description: "plan name (printable ASCII, ≤64 chars)" },
    price: { type: "positional", required: true, description: "price in USD cents per day, e.g. 100 = $1.00/day" },
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
      "Replace an NFT's encrypted payload (updateUserEncrypted, signed by the server wallet); prints the transaction hash",
  },
  args: {
    token: { type: "positional", required: true, description: "NFT token id" },
    data: {
      type: "positional",
      required: false,
      description: "0x hex payload (or use --signature-file with --plaintext/--plaintext-file)",
    },
    "signature-file": {
      type: "string",
      description: "encrypt here: file (or - for stdin) holding the holder's 65-byte hex signature, the AES key source",
    },
    plaintext: { type: "string", description: 'connection details to encrypt, e.g. {"hostname": …}' },
    "plaintext-file": { type: "string", description: "file (or -) holding the text to encrypt" },
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
