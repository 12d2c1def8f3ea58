/** `blockhost is`: yes/no questions answered by exit code (owns NFT? is a contract?). */
import { defineCommand } from "citty";
import { isAddressEqual, type Hex } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { addressArg } from "../core/address.ts";
import { EVM_ADDRESS_RE } from "../core/validators.ts";
import { accessCredentialNftAbi } from "./contracts/generated/AccessCredentialNFT.ts";
import { contractAddress, loadChainContext } from "./context.ts";
import { isRevert, onChain } from "./errors.ts";
import { parseTokenId } from "./mint.ts";

/** "No" is exit 1 with one line on stderr; a question that cannot be answered is also 1, and says why. */
const no = (why: string) => new BlockhostError("E_NOT_FOUND", `no: ${why}`);

async function ownsToken(wallet: Hex, tokenId: bigint): Promise<void> {
  const { web3, access } = loadChainContext();
  const nft = contractAddress(web3, "nft");
  const owner = await onChain(`ownerOf(${tokenId})`, () =>
    access.publicClient.readContract({
      address: nft,
      abi: accessCredentialNftAbi,
      functionName: "ownerOf",
      args: [tokenId],
    }),
  ).catch((e: unknown) => {
    if (isRevert(e)) throw no(`token ${tokenId} does not exist`);
    throw e;
  });
  if (!isAddressEqual(owner, wallet)) throw no(`${wallet} does not own token ${tokenId}`);
}

async function isContract(address: Hex): Promise<void> {
  const { access } = loadChainContext();
  const code = await onChain(`getCode(${address})`, () => access.publicClient.getCode({ address }));
  if (!code || code === "0x") throw no(`${address} has no contract code`);
}

export default defineCommand({
  meta: {
    name: "is",
    description:
      "Answer yes (exit 0) or no (exit 1), for scripts: does a wallet hold an NFT, does an address hold a contract",
    usage: ["blockhost is <WALLET> <TOKEN_ID>", "blockhost is contract <ADDRESS>"],
    examples: [
      "blockhost is 0x52908400098527886E0F7030069857D2E4169EE7 3",
      "blockhost is contract 0x52908400098527886E0F7030069857D2E4169EE7",
    ],
  },
  args: {
    first: {
      type: "positional",
      required: true,
      valueHint: "WALLET",
      description: "A wallet (then a token id follows), or the word contract (then an address)",
    },
    second: { type: "positional", required: true, valueHint: "TOKEN_ID", description: "The token id, or the address" },
  },
  async run({ args }) {
    const pair = [args.first, args.second];
    const given = pair.find((a) => EVM_ADDRESS_RE.test(a));
    const other = pair.find((a) => a !== given) ?? "";
    if (!given) throw new BlockhostError("E_USAGE", "expected a 0x address (40 hex digits) among the arguments");
    const address = addressArg(given, "address");
    if (other === "contract") return await isContract(address as Hex);
    const tokenId = parseTokenId(other);
    if (tokenId !== undefined) return await ownsToken(address as Hex, tokenId);
    throw new BlockhostError(
      "E_USAGE",
      `expected a token id or the word "contract" next to the address, got "${other.slice(0, 40)}"`,
    );
  },
});
