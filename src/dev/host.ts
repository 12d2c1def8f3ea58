/** The dev host: a devnet stablecoin and customer funds, then the same finalization a real host runs, from a generated setup file. */
import { DEFAULT_PUBLIC_SECRET } from "../core/config/schemas.ts";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getAddress, parseUnits, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { AgentClient } from "../agent/client.ts";
import { connectChain, walletClientFor, type ChainAccess } from "../chain/client.ts";
import { mockErc20Abi, mockErc20Bytecode } from "../chain/contracts/generated/test/MockERC20.ts";
import { waitForSuccess, writeAndWait } from "../chain/tx.ts";
import { loadWeb3Config } from "../core/config/index.ts";
import { paths } from "../core/paths.ts";
import { parsePublicKey } from "../crypto/keys.ts";
import { prepareSetup, runSetup, type ProgressListener } from "../setup/runner.ts";
import type { Anvil } from "./anvil.ts";
import { DRY_RUN, devSetupFile, writeSetupFile, type DevBackend } from "./setup-file.ts";

/** The message customers sign; its signature keys the encryption of their NFT payload. */
/** The demo signs the default public secret, as a host set up with the wizard's defaults does. */
export const DEV_PUBLIC_SECRET = DEFAULT_PUBLIC_SECRET;
/** Dev account that deploys and owns the contracts and is the admin (the host's wallet), and the one that plays the customer. */
export const HOST_ACCOUNT = 0;
export const CUSTOMER_ACCOUNT = 1;

export interface DevHost {
  readonly access: ChainAccess;
  readonly nft: Hex;
  readonly subscriptions: Hex;
  readonly stablecoin: Hex;
  readonly serverPublicKey: Uint8Array;
  readonly customer: PrivateKeyAccount;
  readonly setupFile: string;
}

/**
 * Finalize a host under paths.root against an anvil devnet (the agent must be running): a test
 * stablecoin for the customer to pay with, a setup file for `backend` (dry-run unless given), then `finalize`.
 */
export async function setupDevHost(
  anvil: Anvil,
  onProgress?: ProgressListener,
  backend: DevBackend = DRY_RUN,
): Promise<DevHost> {
  const operator = join(paths.root, "operator");
  mkdirSync(operator, { recursive: true, mode: 0o700 });
  const host = privateKeyToAccount(anvil.accounts[HOST_ACCOUNT]!.privateKey);
  const customer = privateKeyToAccount(anvil.accounts[CUSTOMER_ACCOUNT]!.privateKey);
  const access = connectChain({
    blockchain: { chain_id: anvil.chainId, rpc_url: anvil.rpcUrl },
    auth: { otp_length: 6, otp_ttl_seconds: 300 },
  });

  const stablecoin = await deployStablecoin(access, host);
  await writeAndWait(
    access,
    host,
    { address: stablecoin, abi: mockErc20Abi, functionName: "mint", args: [customer.address, parseUnits("1000", 6)] },
    "fund the customer",
  );

  const signatureFile = join(operator, "admin.sig");
  writeFileSync(signatureFile, `${await host.signMessage({ message: DEV_PUBLIC_SECRET })}\n`, { mode: 0o600 });
  const deployerKeyFile = join(operator, "deployer.key");
  writeFileSync(deployerKeyFile, `${anvil.accounts[HOST_ACCOUNT]!.privateKey.slice(2)}\n`, { mode: 0o600 });
  const setupFile = join(operator, "setup.yaml");
  writeSetupFile(
    setupFile,
    devSetupFile({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      adminWallet: host.address,
      signatureFile,
      deployerKeyFile,
      stablecoin,
      backend,
    }),
  );

  const ctx = await prepareSetup(setupFile, { agent: new AgentClient() });
  try {
    await runSetup(ctx, { onProgress, journal: false });
  } finally {
    ctx.db.close();
  }
  const web3 = loadWeb3Config();
  return {
    access,
    nft: web3.blockchain.nft_contract as Hex,
    subscriptions: web3.blockchain.subscription_contract as Hex,
    stablecoin,
    serverPublicKey: parsePublicKey(readFileSync(paths.serverPubkey, "utf8").trim(), "server.pubkey"),
    customer,
    setupFile,
  };
}

async function deployStablecoin(access: ChainAccess, owner: PrivateKeyAccount): Promise<Hex> {
  const hash = await walletClientFor(access, owner).deployContract({
    abi: mockErc20Abi,
    bytecode: mockErc20Bytecode,
    args: ["Dev USD Coin", "USDC", 6],
    account: owner,
    chain: access.chain,
  });
  const receipt = await waitForSuccess(access, hash, "deploy the dev stablecoin");
  return getAddress(receipt.contractAddress!);
}
