/** Chain settings plus a connection, and the deployer key, for chain commands. */
import type { Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { loadWeb3Config, type Web3Config } from "../core/config/index.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { connectChain, type ChainAccess } from "./client.ts";
import { loadKeyFile } from "../crypto/keyfile.ts";

/** web3-defaults.yaml plus a connection to the chain it names. */
export interface ChainContext {
  web3: Web3Config;
  access: ChainAccess;
}

export function loadChainContext(): ChainContext {
  const web3 = loadWeb3Config();
  return { web3, access: connectChain(web3) };
}

/** The deployer ("server") wallet's key file: web3-defaults.yaml `deployer.private_key_file`, else /etc/blockhost/deployer.key. */
export function deployerKeyFile(web3: Web3Config): string {
  return web3.deployer?.private_key_file ?? paths.deployerKey;
}

export function loadDeployer(web3: Web3Config): PrivateKeyAccount {
  return loadKeyFile(deployerKeyFile(web3), "deployer key file");
}

const CONTRACT_KEYS = { nft: "nft_contract", subscriptions: "subscription_contract" } as const;

/** A contract address from web3-defaults.yaml, or a config error naming the key to set. */
export function contractAddress(web3: Web3Config, which: keyof typeof CONTRACT_KEYS): Hex {
  const key = CONTRACT_KEYS[which];
  const value = web3.blockchain[key];
  if (!value)
    throw new BlockhostError(
      "E_CONFIG_MISSING",
      `${paths.web3Config}: blockchain.${key} is not set (deploy with: blockhost contracts deploy ${which})`,
      { file: paths.web3Config, key: `blockchain.${key}` },
    );
  return value as Hex;
}
