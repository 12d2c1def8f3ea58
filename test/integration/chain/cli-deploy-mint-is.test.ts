/** `blockhost contracts`, `mint` and `is` against anvil. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { anvilAvailable, freePort, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { chainRoot, ROLE_ACCOUNT, type ChainRoot } from "../../helpers/chain-root.ts";
import { devnet, read, type Devnet } from "../../helpers/contracts.ts";

// Chain round trips through anvil and the compiled binary: generous, never a timing assertion.
setDefaultTimeout(60_000);

const ADDRESS_LINE = /^0x[0-9a-fA-F]{40}$/;

describe.skipIf(!anvilAvailable())("blockhost contracts deploy / mint / is (compiled binary, real anvil)", () => {
  let anvil: Anvil;
  let net: Devnet;
  let root: ChainRoot;
  let nft: Hex, subs: Hex;
  const alice = () => anvil.accounts[1]!.address;

  beforeAll(async () => {
    anvil = await startAnvil();
    net = devnet(anvil);
    // The first RPC URL is dead: every command must fall back to the second.
    root = chainRoot(anvil, { rpcUrls: [`http://127.0.0.1:${await freePort()}`, anvil.rpcUrl] });
  });
  afterAll(async () => {
    await anvil?.stop();
    root?.cleanup();
  });

  test("contracts deploy prints the NFT address then the subscriptions address, owned by the deployer", async () => {
    const r = await root.run(["contracts", "deploy"]);
    expect(r.stderr).not.toContain(anvil.accounts[0]!.privateKey.slice(2));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => ADDRESS_LINE.test(l))).toBe(true);
    [nft, subs] = lines as [Hex, Hex];
    expect(await read(net, { address: nft, abi: accessCredentialNftAbi, functionName: "symbol" })).toBe("BHA");
    expect(await read(net, { address: subs, abi: blockhostSubscriptionsAbi, functionName: "nextPlanId" })).toBe(1n);
    for (const c of [nft, subs])
      expect(await read(net, { address: c, abi: accessCredentialNftAbi, functionName: "owner" })).toBe(
        anvil.accounts[ROLE_ACCOUNT.server]!.address,
      );
    root.web3.blockchain = { ...(root.web3.blockchain as object), nft_contract: nft, subscription_contract: subs };
    root.writeWeb3();
  });

  test("contracts deploy nft deploys one contract; an unknown name is a usage error", async () => {
    const one = await root.run(["contracts", "deploy", "nft"]);
    expect(one.code).toBe(0);
    expect(one.stdout.trim()).toMatch(ADDRESS_LINE);
    const bad = await root.run(["contracts", "deploy", "token"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown contract "token"');
  });

  test("mint prints token ids from 0 upward and stores the payload", async () => {
    const first = await root.run(["mint", "--owner-wallet", alice(), "--user-encrypted", "0xc0ffee"]);
    expect(first).toMatchObject({ code: 0, stdout: "0\n" });
    const gas = /"gas_used":"(\d+)"/.exec(first.stderr)?.[1];
    console.log(`gas mint via CLI (3-byte payload): ${gas}`);
    const second = await root.run(["mint", "--owner-wallet", anvil.accounts[2]!.address]);
    expect(second).toMatchObject({ code: 0, stdout: "1\n" });
    expect(
      await read(net, { address: nft, abi: accessCredentialNftAbi, functionName: "getUserEncrypted", args: [0n] }),
    ).toBe("0xc0ffee");
    expect(await read(net, { address: nft, abi: accessCredentialNftAbi, functionName: "ownerOf", args: [1n] })).toBe(
      anvil.accounts[2]!.address,
    );
  });

  test("mint --dry-run prints the next token id and sends nothing", async () => {
    const r = await root.run(["mint", "--owner-wallet", alice(), "--dry-run"]);
    expect(r).toMatchObject({ code: 0, stdout: "2\n" });
    expect(r.stderr).toContain("nothing sent");
    expect(await read(net, { address: nft, abi: accessCredentialNftAbi, functionName: "totalSupply" })).toBe(2n);
  });

  test("mint refuses bad input with usage errors, and has no way to pass a key", async () => {
    expect((await root.run(["mint", "--owner-wallet", "0x1234"])).code).toBe(2);
    expect((await root.run(["mint", "--owner-wallet", alice(), "--user-encrypted", "0xabc"])).code).toBe(2);
    const keyFlag = await root.run(["mint", "--owner-wallet", alice(), "--private-key", "00"]);
    expect(keyFlag.code).toBe(2);
    expect(keyFlag.stderr).toContain("unknown option --private-key");
    expect((await root.run(["mint"])).code).toBe(2);
  });

  test("is WALLET TOKEN answers with the exit code, in either argument order", async () => {
    expect((await root.run(["is", alice(), "0"])).code).toBe(0);
    expect((await root.run(["is", "0", alice()])).code).toBe(0);
    expect((await root.run(["is", alice().toLowerCase(), "0"])).code).toBe(0);
    const no = await root.run(["is", alice(), "1"]);
    expect(no.code).toBe(1);
    expect(no.stderr).toContain("does not own token 1");
    const missing = await root.run(["is", alice(), "99"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("token 99 does not exist");
  });

  test("is contract ADDRESS: 0 for code, 1 for a plain wallet; bad arguments are usage errors", async () => {
    expect((await root.run(["is", "contract", subs])).code).toBe(0);
    expect((await root.run(["is", nft, "contract"])).code).toBe(0);
    expect((await root.run(["is", "contract", alice()])).code).toBe(1);
    expect((await root.run(["is", "contract", "nothex"])).code).toBe(2);
    expect((await root.run(["is", alice(), "banana"])).code).toBe(2);
    expect((await root.run(["is", alice()])).code).toBe(2);
  });

  test("a world-readable key file is refused (config error 78) without printing the key", async () => {
    const keyFile = join(root.configDir, "deployer.key");
    chmodSync(keyFile, 0o644);
    try {
      const r = await root.run(["mint", "--owner-wallet", alice()]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("lets others access it");
      expect(r.stderr).not.toContain(anvil.accounts[0]!.privateKey.slice(2));
    } finally {
      chmodSync(keyFile, 0o600);
    }
  });

  test("a key file that is not a key is a config error naming the file only", async () => {
    const bad = join(root.configDir, "bad.key");
    writeFileSync(bad, "not-a-key-but-secret-text\n", { mode: 0o600 });
    const saved = root.web3.deployer;
    root.web3.deployer = { private_key_file: bad };
    root.writeWeb3();
    try {
      const r = await root.run(["contracts", "deploy", "nft"]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(bad);
      expect(r.stderr).not.toContain("secret-text");
    } finally {
      root.web3.deployer = saved;
      root.writeWeb3();
    }
  });

  test("missing contract address or config file is a config error (78)", async () => {
    const chain = root.web3.blockchain as Record<string, unknown>;
    const saved = chain.nft_contract;
    delete chain.nft_contract;
    root.writeWeb3();
    try {
      const r = await root.run(["mint", "--owner-wallet", alice()]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("blockchain.nft_contract is not set");
    } finally {
      chain.nft_contract = saved;
      root.writeWeb3();
    }
  });

  test("an unreachable chain is a one-line failure (exit 1)", async () => {
    const chain = root.web3.blockchain as Record<string, unknown>;
    const saved = { rpc_url: chain.rpc_url, rpc_urls: chain.rpc_urls };
    chain.rpc_url = `http://127.0.0.1:${await freePort()}`;
    delete chain.rpc_urls;
    root.writeWeb3();
    try {
      const r = await root.run(["is", "contract", subs]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain("unreachable");
    } finally {
      Object.assign(chain, saved);
      root.writeWeb3();
    }
  });

  test("every command has --help", async () => {
    for (const cmd of [["contracts", "deploy"], ["mint"], ["is"]]) {
      const r = await root.run([...cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage:");
    }
  });
});
