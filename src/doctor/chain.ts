/** Doctor checks on the chain: the configured chain id answers, contracts have code, the deployer owns the NFT. */
import { type Hex, isAddressEqual } from "viem";
import { connectChain } from "../chain/client.ts";
import { deployerKeyFile } from "../chain/context.ts";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { onChain } from "../chain/errors.ts";
import { readKeyFile } from "../crypto/keyfile.ts";
import type { Web3Config } from "../core/config/index.ts";
import { oneLine } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { addressOfPrivateKey } from "../crypto/keys.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

const CONTRACTS = [
  ["nft_contract", "nft"],
  ["subscription_contract", "subscriptions"],
] as const;

export async function chainChecks(web3: Web3Config | null): Promise<CheckResult[]> {
  if (!web3) return [skip("chain", `${paths.web3Config} does not load (see above)`)];
  const client = connectChain(web3, { timeoutMs: 5000 }).publicClient;
  const want = web3.blockchain.chain_id;
  try {
    const got = await onChain("read the chain id", () => client.getChainId());
    if (got !== want)
      return [
        fail(
          "chain",
          `the RPC answers chain id ${got}, ${paths.web3Config} says ${want}`,
          "point blockchain.rpc_url at a node of the configured chain",
        ),
      ];
  } catch (e) {
    return [fail("chain", oneLine(e), `check blockchain.rpc_url in ${paths.web3Config} and the network`)];
  }
  const results = [ok("chain", `chain id ${want} answers at ${web3.blockchain.rpc_url}`)];
  for (const [key, what] of CONTRACTS) {
    const address = web3.blockchain[key] as Hex | undefined;
    const name = `contract ${what}`;
    if (!address) {
      results.push(fail(name, `blockchain.${key} is not set`, `blockhost contracts deploy ${what}`));
      continue;
    }
    const code = await client.getCode({ address }).catch(() => undefined);
    results.push(
      code && code !== "0x"
        ? ok(name, `${address} has code`)
        : fail(name, `no contract code at ${address} on chain ${want}`, `check blockchain.${key}, or redeploy`),
    );
  }
  results.push(await nftOwnerCheck(client, web3));
  return results;
}

/** The engine mints with the deployer key, so it must own the NFT contract or every mint reverts. */
async function nftOwnerCheck(client: ReturnType<typeof connectChain>["publicClient"], web3: Web3Config) {
  const name = "nft owner";
  const nft = web3.blockchain.nft_contract as Hex | undefined;
  if (!nft) return skip(name, "no NFT contract configured");
  let deployer: Hex;
  try {
    deployer = addressOfPrivateKey(readKeyFile(deployerKeyFile(web3)));
  } catch (e) {
    return fail(name, oneLine(e), `restore the deployer key file ${deployerKeyFile(web3)}`);
  }
  try {
    const owner = await client.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "owner" });
    return isAddressEqual(owner, deployer)
      ? ok(name, `the deployer ${deployer} owns ${nft} (mints can succeed)`)
      : fail(
          name,
          `${nft} is owned by ${owner}, not the deployer ${deployer}: every mint would revert`,
          "transferOwnership to the deployer from the owner wallet, or configure the owner's key as deployer",
        );
  } catch (e) {
    return fail(name, oneLine(e), "check blockchain.nft_contract points at an AccessCredentialNFT");
  }
}
