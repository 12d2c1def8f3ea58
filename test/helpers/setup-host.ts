/** A host to finalize: a temp root with the compiled agent running, a setup file for an anvil devnet, the admin's signature. */
import { afterAll, beforeAll } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import type { Hex } from "viem";
import { mockErc20Abi, mockErc20Bytecode } from "../../src/chain/contracts/generated/test/MockERC20.ts";
import { devSetupFile, writeSetupFile } from "../../src/dev/setup-file.ts";
import { startAgent, type RunningAgent } from "./agent.ts";
import { startAnvil, type Anvil } from "./anvil.ts";
import { runBlockhost, tempDir, type RunOutput } from "./binary.ts";
import { deploy, devnet } from "./contracts.ts";

/** Dev accounts: the deployer (contract owner), the admin, and the account that deploys the test stablecoin. */
export const SETUP_ACCOUNT = { deployer: 3, admin: 4, stablecoin: 8 } as const;

export interface SetupHost {
  readonly root: string;
  readonly agent: RunningAgent;
  readonly setupFile: string;
  readonly admin: ReturnType<typeof privateKeyToAccount>;
  readonly signature: Hex;
  readonly stablecoin: Hex;
  // biome-ignore lint/suspicious/noExplicitAny: tests bend the setup file into invalid shapes on purpose
  readonly data: Record<string, any>;
  /** Rewrite the setup file after changing `data`. */
  write(): void;
  finalize(args?: string[], env?: Record<string, string>): Promise<RunOutput>;
  stop(): Promise<void>;
}

/** Deploy a test stablecoin on `anvil` (once per devnet is enough; pass it back in to reuse it). */
export async function deployTestStablecoin(anvil: Anvil): Promise<Hex> {
  return await deploy(devnet(anvil), SETUP_ACCOUNT.stablecoin, mockErc20Abi, mockErc20Bytecode, [
    "Test USD",
    "USDC",
    6,
  ]);
}

/** `hostAgent` starts the agent on the host's root (default: the real agent with the real binaries). */
export async function setupHost(
  anvil: Anvil,
  stablecoin: Hex,
  hostAgent: (root: string) => Promise<RunningAgent> = (root) => startAgent({ root }),
): Promise<SetupHost> {
  const temp = tempDir("blockhost-setup-");
  const root = temp.dir;
  const agent = await hostAgent(root);
  const secrets = join(root, "operator");
  mkdirSync(secrets, { mode: 0o700 });
  const admin = privateKeyToAccount(anvil.accounts[SETUP_ACCOUNT.admin]!.privateKey);
  const signature = await admin.signMessage({ message: "blockhost-access" });
  const signatureFile = join(secrets, "admin.sig");
  writeFileSync(signatureFile, `${signature}\n`, { mode: 0o600 });
  const deployerKeyFile = join(secrets, "deployer.key");
  writeFileSync(deployerKeyFile, `${anvil.accounts[SETUP_ACCOUNT.deployer]!.privateKey.slice(2)}\n`, { mode: 0o600 });
  const setupFile = join(secrets, "setup.yaml");
  const data = devSetupFile({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    adminWallet: admin.address,
    signatureFile,
    deployerKeyFile,
    stablecoin,
  });
  const write = () => writeSetupFile(setupFile, data);
  write();
  return {
    root,
    agent,
    setupFile,
    admin,
    signature,
    stablecoin,
    data,
    write,
    finalize: (args = ["--config", setupFile], env = {}) => runBlockhost(["finalize", ...args], { root, env }),
    async stop() {
      await agent.stop();
      temp.cleanup();
    },
  };
}

export interface SetupFixture {
  anvil: Anvil;
  stablecoin: Hex;
  host: SetupHost;
}

/** Per describe block: an anvil devnet with a test stablecoin and a host to finalize, stopped afterwards. */
export function useSetupHost(): SetupFixture {
  const f = {} as SetupFixture;
  beforeAll(async () => {
    f.anvil = await startAnvil();
    f.stablecoin = await deployTestStablecoin(f.anvil);
    f.host = await setupHost(f.anvil, f.stablecoin);
  });
  afterAll(async () => {
    await f.host?.stop();
    await f.anvil?.stop();
  });
  return f;
}
