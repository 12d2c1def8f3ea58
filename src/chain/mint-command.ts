/** `blockhost mint`: mint one access credential NFT by hand. */
import { defineCommand } from "citty";
import type { Hex } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { printJson } from "../core/output.ts";
import { addressArg } from "../core/address.ts";
import { contractAddress, loadChainContext, loadDeployer } from "./context.ts";
import { mintCredential, simulateMint } from "./mint.ts";

/** Ciphertexts are a few hundred bytes; 64 KiB keeps a mistaken file paste from becoming an expensive mint. */
const USER_ENCRYPTED_RE = /^0x(?:[0-9a-fA-F]{2}){0,65536}$/;

export default defineCommand({
  meta: {
    name: "mint",
    description: "Mint an access NFT to a wallet, signed by the server wallet; prints the new token id",
    examples: [
      "blockhost mint --owner-wallet 0x52908400098527886E0F7030069857D2E4169EE7",
      "blockhost mint --owner-wallet 0x52908400098527886E0F7030069857D2E4169EE7 --dry-run",
    ],
  },
  args: {
    "owner-wallet": {
      type: "string",
      required: true,
      description: "Wallet that receives the NFT",
      valueHint: "WALLET",
    },
    "user-encrypted": {
      type: "string",
      description: "Encrypted connection details to store in the NFT, as 0x hex (default: none)",
      valueHint: "HEX",
    },
    "dry-run": { type: "boolean", description: "Only print the token id the mint would get; send nothing" },
    json: { type: "boolean", description: "Print JSON: token id, owner, contract, transaction, dry run or not" },
  },
  async run({ args }) {
    const to = addressArg(args["owner-wallet"], "--owner-wallet");
    const data = args["user-encrypted"] ?? "0x";
    if (!USER_ENCRYPTED_RE.test(data))
      throw new BlockhostError(
        "E_USAGE",
        "--user-encrypted: expected 0x followed by an even number of hex digits (at most 64 KiB)",
      );
    const { web3, access } = loadChainContext();
    const nft = contractAddress(web3, "nft");
    const owner = loadDeployer(web3);
    if (args["dry-run"]) {
      const tokenId = await simulateMint(access, owner, nft, to as Hex, data as Hex);
      if (args.json) return printJson({ token_id: Number(tokenId), to, contract: nft, tx: null, dry_run: true });
      process.stderr.write(`dry run: would mint token ${tokenId} to ${to} on ${nft}; nothing sent\n`);
      process.stdout.write(`${tokenId}\n`);
      return;
    }
    const minted = await mintCredential(access, owner, nft, to as Hex, data as Hex);
    logEvent("nft_minted", {
      contract: nft,
      token_id: minted.tokenId.toString(),
      to,
      tx: minted.hash,
      gas_used: minted.gasUsed.toString(),
    });
    if (args.json)
      return printJson({ token_id: Number(minted.tokenId), to, contract: nft, tx: minted.hash, dry_run: false });
    process.stdout.write(`${minted.tokenId}\n`);
  },
});
