/** Set up a dev host: devnet, contracts, keys and config files. */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, getAddress, parseUnits, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { connectChain, type ChainAccess } from "../chain/client.ts";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { mockErc20Abi, mockErc20Bytecode } from "../chain/contracts/generated/test/MockERC20.ts";
import { deployAll } from "../chain/deploy.ts";
import { waitForSuccess, writeAndWait } from "../chain/tx.ts";
import { loadWeb3Config } from "../core/config/index.ts";
import { paths } from "../core/paths.ts";
import { walletClientFor } from "../chain/client.ts";
import { generatePrivateKey, publicKeyOf } from "../crypto/keys.ts";
import type { Anvil } from "./anvil.ts";

/** The message customers sign; its signature keys the encryption of their NFT payload. */
export const DEV_PUBLIC_SECRET = "blockhost-access";
/** Dev account that deploys and owns the contracts (the host's wallet) and the one that plays the customer. */
export const HOST_ACCOUNT = 0;
export const CUSTOMER_ACCOUNT = 1;
/** The demo plan's price: 1.00 USD per day, in cents. */
export const PLAN_CENTS_PER_DAY = 100n;

/** The hypervisor part of the demo's configuration: blockhost.yaml lines and the VM subnet. */
export interface DevBackend { yaml: string[]; network: string; gateway: string }
export const DRY_RUN: DevBackend = { yaml: ["backend: dry-run"], network: "192.168.122.0/24", gateway: "192.168.122.1" };

export interface DevHost {
  readonly access: ChainAccess;
  readonly nft: Hex;
  readonly subscriptions: Hex;
  readonly stablecoin: Hex;
  readonly serverPublicKey: Uint8Array;
  readonly customer: PrivateKeyAccount;
}

function writeSecret(file: string, hex: string): string {
  writeFileSync(file, `${hex}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/**
 * Set up a complete host under paths.root against an anvil devnet: key files, the three config
 * files (dry-run backend unless `backend` says otherwise), both contracts, a mock stablecoin as payment method 1 and a plan,
 * and a customer holding stablecoin. What finalization does on a real host, minus hardware.
 */
export async function setupDevHost(anvil: Anvil, backend: DevBackend = DRY_RUN): Promise<DevHost> {
  const etc = paths.configDir;
  mkdirSync(etc, { recursive: true, mode: 0o750 });
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
  const host = anvil.accounts[HOST_ACCOUNT]!;
  const serverKey = generatePrivateKey();
  const serverKeyFile = writeSecret(join(etc, "server.key"), bytesToHex(serverKey).slice(2));
  const deployerKeyFile = writeSecret(join(etc, "deployer.key"), host.privateKey.slice(2));

  writeFileSync(paths.dbConfig, [
    "vmid_range: {start: 100, end: 999}",
    `ip_pool: {network: '${backend.network}', start: 200, end: 250, gateway: '${backend.gateway}'}`,
    "gc_grace_days: 7",
    "",
  ].join("\n"));
  const web3Lines = (nft?: Hex, subs?: Hex) => [
    "blockchain:",
    `  chain_id: ${anvil.chainId}`,
    `  rpc_url: ${anvil.rpcUrl}`,
    ...(nft && subs ? [`  nft_contract: '${nft}'`, `  subscription_contract: '${subs}'`] : []),
    "  confirmations: 0",
    `deployer: {private_key_file: ${deployerKeyFile}}`,
    `server: {public_key: '0x${Buffer.from(publicKeyOf(serverKey)).toString("hex")}'}`,
    "",
  ].join("\n");
  writeFileSync(paths.web3Config, web3Lines());
  writeFileSync(paths.blockhostConfig, [
    `server: {address: '${host.address}', key_file: ${serverKeyFile}}`,
    `deployer: {key_file: ${deployerKeyFile}}`,
    `public_secret: '${DEV_PUBLIC_SECRET}'`,
    ...backend.yaml,
    `admin: {wallet_address: '${host.address}'}`,
    "engine: {poll_interval_ms: 500, reconcile_interval_s: 30}",
    "",
  ].join("\n"));

  const access = connectChain(loadWeb3Config());
  const owner = privateKeyToAccount(host.privateKey);
  const [nft, subscriptions] = (await deployAll(access, owner)).map((d) => d.address) as [Hex, Hex];
  writeFileSync(paths.web3Config, web3Lines(nft, subscriptions));

  const stablecoin = await deployStablecoin(access, owner);
  const customer = privateKeyToAccount(anvil.accounts[CUSTOMER_ACCOUNT]!.privateKey);
  await writeAndWait(access, owner, { address: stablecoin, abi: mockErc20Abi, functionName: "mint", args: [customer.address, parseUnits("1000", 6)] }, "fund the customer");
  await writeAndWait(access, owner, { address: subscriptions, abi: blockhostSubscriptionsAbi, functionName: "setPrimaryStablecoin", args: [stablecoin] }, "set the stablecoin");
  await writeAndWait(access, owner, { address: subscriptions, abi: blockhostSubscriptionsAbi, functionName: "createPlan", args: ["Basic", PLAN_CENTS_PER_DAY] }, "create the plan");
  return { access, nft, subscriptions, stablecoin, serverPublicKey: publicKeyOf(serverKey), customer };
}

async function deployStablecoin(access: ChainAccess, owner: PrivateKeyAccount): Promise<Hex> {
  const hash = await walletClientFor(access, owner).deployContract({ abi: mockErc20Abi, bytecode: mockErc20Bytecode, args: ["Dev USD Coin", "USDC", 6], account: owner, chain: access.chain });
  const receipt = await waitForSuccess(access, hash, "deploy the dev stablecoin");
  return getAddress(receipt.contractAddress!);
}
