/** A temp BLOCKHOST_ROOT wired to an anvil devnet. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import type { Anvil } from "./anvil.ts";
import { runBlockhost, tempDir, type RunOutput } from "./binary.ts";

/** Dev-account indices the chain CLI tests give each addressbook role. */
export const ROLE_ACCOUNT = { server: 0, hot: 5, dev: 6, broker: 7, admin: 9 } as const;

export interface ChainRoot {
  dir: string;
  configDir: string;
  web3: Record<string, unknown>;
  /** Rewrite web3-defaults.yaml after changing `web3` (e.g. adding contract addresses). */
  writeWeb3(): void;
  run(args: string[]): Promise<RunOutput>;
  cleanup(): void;
}

/**
 * A temp BLOCKHOST_ROOT wired to an anvil devnet: web3-defaults.yaml, blockhost.yaml, the
 * deployer/hot key files (0600) and an addressbook with the usual roles.
 */
export function chainRoot(anvil: Anvil, opts: { rpcUrls?: string[] } = {}): ChainRoot {
  const { dir, cleanup } = tempDir("blockhost-chain-");
  const configDir = join(dir, "etc/blockhost");
  mkdirSync(configDir, { recursive: true, mode: 0o750 });
  const key = (name: string, account: number) => {
    const file = join(configDir, `${name}.key`);
    writeFileSync(file, `${anvil.accounts[account]!.privateKey.slice(2)}\n`, { mode: 0o600 });
    return file;
  };
  const deployerKey = key("deployer", ROLE_ACCOUNT.server);
  const hotKey = key("hot", ROLE_ACCOUNT.hot);
  const addr = (i: number): Hex => anvil.accounts[i]!.address;
  const book = {
    admin: { address: addr(ROLE_ACCOUNT.admin) },
    server: { address: addr(ROLE_ACCOUNT.server), keyfile: deployerKey },
    hot: { address: addr(ROLE_ACCOUNT.hot), keyfile: hotKey },
    dev: { address: addr(ROLE_ACCOUNT.dev) },
    broker: { address: addr(ROLE_ACCOUNT.broker) },
  };
  writeFileSync(join(configDir, "addressbook.json"), JSON.stringify(book, null, 2), { mode: 0o640 });
  writeFileSync(
    join(configDir, "blockhost.yaml"),
    `server:\n  key_file: ${join(configDir, "server.key")}\nadmin:\n  wallet_address: "${addr(ROLE_ACCOUNT.admin)}"\n  credential_nft_id: 0\n`,
  );
  const web3: Record<string, unknown> = {
    blockchain: {
      chain_id: anvil.chainId,
      rpc_url: opts.rpcUrls?.[0] ?? anvil.rpcUrl,
      ...(opts.rpcUrls ? { rpc_urls: opts.rpcUrls.slice(1) } : {}),
    },
    deployer: { private_key_file: deployerKey },
  };
  const writeWeb3 = () => writeFileSync(join(configDir, "web3-defaults.yaml"), Bun.YAML.stringify(web3, null, 2));
  writeWeb3();
  return { dir, configDir, web3, writeWeb3, run: (args) => runBlockhost(args, { root: dir }), cleanup };
}
