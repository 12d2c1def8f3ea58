/** `blockhost wallet who`: who holds an NFT, or who signed a message. */
import { defineCommand } from "citty";
import { recoverMessageAddress, type Hex } from "viem";
import { loadBlockhostConfig } from "../core/config/index.ts";
import { BlockhostError } from "../core/errors.ts";
import { contractAddress, loadChainContext } from "../chain/context.ts";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { onChain } from "../chain/errors.ts";
import { parseTokenId } from "../chain/mint.ts";

const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;

async function ownerOf(tokenId: bigint): Promise<Hex> {
  const { web3, access } = loadChainContext();
  const nft = contractAddress(web3, "nft");
  return await onChain(`ownerOf(${tokenId})`, () =>
    access.publicClient.readContract({
      address: nft,
      abi: accessCredentialNftAbi,
      functionName: "ownerOf",
      args: [tokenId],
    }),
  );
}

export const who = defineCommand({
  meta: {
    name: "who",
    description: "Print the wallet that holds an access NFT, or the wallet that signed a message",
    usage: [
      "blockhost wallet who <TOKEN_ID>",
      "blockhost wallet who admin",
      "blockhost wallet who <MESSAGE> <SIGNATURE>",
    ],
    examples: ["blockhost wallet who 3", "blockhost wallet who 'hello' 0x…signature"],
  },
  args: {
    first: {
      type: "positional",
      required: true,
      valueHint: "TOKEN_ID",
      description: "An NFT token id; admin (the admin's NFT, from blockhost.yaml); or a signed message",
    },
    second: {
      type: "positional",
      required: false,
      valueHint: "SIGNATURE",
      description: "With a message: its 0x signature (the two may come in either order)",
    },
  },
  async run({ args }) {
    if (args.second !== undefined) {
      const [signature, message] = SIGNATURE_RE.test(args.second)
        ? [args.second, args.first]
        : [args.first, args.second];
      if (!SIGNATURE_RE.test(signature))
        throw new BlockhostError(
          "E_USAGE",
          "expected a 65-byte signature (0x + 130 hex digits) as one of the two arguments",
        );
      const address = await recoverMessageAddress({ message, signature: signature as Hex }).catch(() => {
        throw new BlockhostError("E_INVALID_INPUT", "the signature does not recover to an address (bad v, r or s)");
      });
      process.stdout.write(`${address}\n`);
      return;
    }
    const tokenId =
      args.first === "admin" ? BigInt(loadBlockhostConfig().admin?.credential_nft_id ?? 0) : parseTokenId(args.first);
    if (tokenId === undefined)
      throw new BlockhostError(
        "E_USAGE",
        `expected a token id, admin, or a message and a signature, got "${args.first.slice(0, 50)}"`,
      );
    process.stdout.write(`${await ownerOf(tokenId)}\n`);
  },
});
