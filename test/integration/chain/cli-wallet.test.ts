/** `blockhost wallet` against anvil. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { maxUint256, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { decryptWithSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import {
  mockUniswapV2RouterAbi,
  mockUniswapV2RouterBytecode,
} from "../../../src/chain/contracts/generated/test/MockUniswapV2Router.ts";
import { anvilAvailable, startAnvil, type Anvil } from "../../helpers/anvil.ts";
import { chainRoot, ROLE_ACCOUNT, type ChainRoot } from "../../helpers/chain-root.ts";
import { approve, balanceOf, deployToken, devnet, read, send, type Devnet } from "../../helpers/contracts.ts";

// Chain round trips through anvil and the compiled binary: generous, never a timing assertion.
setDefaultTimeout(60_000);

const TX_HASH = /^0x[0-9a-f]{64}\n$/;
const BUYER = 1,
  RECEIVER = 8;
const usdc = (whole: number) => BigInt(whole) * 1_000_000n;

describe.skipIf(!anvilAvailable())("blockhost wallet (compiled binary, real anvil)", () => {
  let anvil: Anvil;
  let net: Devnet;
  let root: ChainRoot;
  let nft: Hex, subs: Hex, stable: Hex;
  const addr = (i: number): Hex => anvil.accounts[i]!.address;
  const role = (r: keyof typeof ROLE_ACCOUNT) => addr(ROLE_ACCOUNT[r]);
  const wallet = (...args: string[]) => root.run(["wallet", ...args]);
  const buy = async (days: bigint) =>
    send(net, BUYER, {
      address: subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "buySubscription",
      args: [1n, days, 1n, "0x"],
    });

  beforeAll(async () => {
    anvil = await startAnvil();
    net = devnet(anvil);
    root = chainRoot(anvil);
    const deployed = await root.run(["contracts", "deploy"]);
    if (deployed.code !== 0) throw new Error(deployed.stderr);
    [nft, subs] = deployed.stdout.trim().split("\n") as [Hex, Hex];
    root.web3.blockchain = { ...(root.web3.blockchain as object), nft_contract: nft, subscription_contract: subs };
    root.writeWeb3();
    stable = await deployToken(net, "USDC", 6, [
      [ROLE_ACCOUNT.server, usdc(1000)],
      [ROLE_ACCOUNT.hot, usdc(1000)],
      [BUYER, usdc(1000)],
    ]);
    await approve(net, BUYER, stable, subs, maxUint256);
  });
  afterAll(async () => {
    await anvil?.stop();
    root?.cleanup();
  });

  test("config stable: unset is exit 1; set (signed by server) then show", async () => {
    const none = await wallet("config", "stable");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no primary stablecoin");
    expect((await wallet("config", "stable", stable)).stdout).toMatch(TX_HASH);
    expect(await wallet("config", "stable")).toMatchObject({ code: 0, stdout: `${stable}\n` });
    const zero = await wallet("config", "stable", `0x${"0".repeat(40)}`);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain("InvalidAddress");
  });

  test("plan create prints the plan id from the PlanCreated event", async () => {
    expect(await wallet("plan", "create", "Basic", "100")).toMatchObject({ code: 0, stdout: "1\n" });
    expect(await wallet("plan", "create", "Big VM", "250")).toMatchObject({ code: 0, stdout: "2\n" });
    expect(
      await read(net, { address: subs, abi: blockhostSubscriptionsAbi, functionName: "getPlan", args: [2n] }),
    ).toEqual(["Big VM", 250n, true]);
    expect((await wallet("plan", "create", "Free", "0")).code).toBe(2);
  });

  test("send moves exact ETH and stablecoin amounts between roles and addresses", async () => {
    const before = await net.pub.getBalance({ address: addr(RECEIVER) });
    expect((await wallet("send", "1.5", "eth", "hot", addr(RECEIVER))).stdout).toMatch(TX_HASH);
    expect((await net.pub.getBalance({ address: addr(RECEIVER) })) - before).toBe(parseEther("1.5"));
    expect((await wallet("send", "10.25", "stable", "server", "dev")).stdout).toMatch(TX_HASH);
    expect(await balanceOf(net, stable, role("dev"))).toBe(10_250_000n);
    expect((await wallet("send", "1", stable, "server", addr(RECEIVER))).code).toBe(0);
    expect(await balanceOf(net, stable, addr(RECEIVER))).toBe(usdc(1));
  });

  test("send refuses roles without keys, unknown roles, bad amounts and tokens (usage errors)", async () => {
    const keyless = await wallet("send", "1", "eth", "admin", "dev");
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toContain('"admin" has no key file');
    expect((await wallet("send", "1", "eth", "nobody", "dev")).stderr).toContain('unknown role "nobody"');
    expect((await wallet("send", "1.1234567", "stable", "server", "dev")).code).toBe(2);
    expect((await wallet("send", "-1", "eth", "server", "dev")).code).toBe(2);
    expect((await wallet("send", "1", "doge", "server", "dev")).code).toBe(2);
    expect((await wallet("send", "1000000", "eth", "hot", "dev")).code).toBe(1);
  });

  test("balance shows ETH and each payment token with its USD value, or one given token", async () => {
    const all = await wallet("balance", "dev");
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^ETH \d+(\.\d+)?\n/);
    expect(all.stdout).toContain(`USDC 10.25 ($10.25) (${stable})`);
    const one = await wallet("balance", role("dev"), "stable");
    expect(one.stdout.split("\n")[1]).toBe(`USDC 10.25 (${stable})`);
    await wallet("plan", "create", "x", "1"); // keeps plan ids moving; harmless
    const minted = await root.run(["mint", "--owner-wallet", role("admin")]);
    expect(minted.stdout).toBe("0\n");
    expect((await wallet("balance", "admin", nft)).stdout).toContain("BHA 1 (");
  });

  test("split: slash-separated whole percentages; the last recipient gets the remainder", async () => {
    const r = await wallet("split", "10", "stable", "60/40", "hot", "broker", addr(RECEIVER));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    expect(await balanceOf(net, stable, role("broker"))).toBe(usdc(6));
    expect(await balanceOf(net, stable, addr(RECEIVER))).toBe(usdc(1) + usdc(4));
    const before = [
      await balanceOf(net, stable, role("broker")),
      await balanceOf(net, stable, addr(RECEIVER)),
      await balanceOf(net, stable, role("dev")),
    ];
    expect((await wallet("split", "0.000001", "stable", "33/33/34", "hot", "broker", addr(RECEIVER), "dev")).code).toBe(
      0,
    );
    const after = [
      await balanceOf(net, stable, role("broker")),
      await balanceOf(net, stable, addr(RECEIVER)),
      await balanceOf(net, stable, role("dev")),
    ];
    expect(after.map((a, i) => a - before[i]!)).toEqual([0n, 0n, 1n]);
  });

  test("split refuses ratios that do not sum to 100 or do not match the recipients", async () => {
    expect((await wallet("split", "10", "stable", "60/30", "hot", "dev", "broker")).stderr).toContain(
      "must sum to 100",
    );
    expect((await wallet("split", "10", "stable", "50/50", "hot", "dev", "broker", "admin")).stderr).toContain(
      "2 shares for 3 recipients",
    );
    expect((await wallet("split", "10", "stable", "100", "hot", "dev")).code).toBe(2);
  });

  test("withdraw with only TO takes every payment token; with TOKEN, that one; eth is refused", async () => {
    await buy(30n); // $1/day plan × 30 days = 30 USDC into the contract
    const hotBefore = await balanceOf(net, stable, role("hot"));
    const all = await wallet("withdraw", "hot");
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^30 USDC 0x[0-9a-f]{64}\n$/);
    expect((await balanceOf(net, stable, role("hot"))) - hotBefore).toBe(usdc(30));
    expect(await wallet("withdraw", "hot")).toMatchObject({ code: 0, stdout: "nothing to withdraw\n" });
    await buy(2n);
    expect((await wallet("withdraw", "stable", addr(RECEIVER))).stdout).toMatch(/^2 USDC /);
    expect((await wallet("withdraw", "eth", "hot")).code).toBe(2);
  });

  test("who: NFT owner by id or admin; the signer of a message in either order", async () => {
    expect(await wallet("who", "0")).toMatchObject({ code: 0, stdout: `${role("admin")}\n` });
    expect(await wallet("who", "admin")).toMatchObject({ code: 0, stdout: `${role("admin")}\n` });
    const missing = await wallet("who", "42");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("ERC721NonexistentToken(42)");
    const signer = privateKeyToAccount(anvil.accounts[3]!.privateKey);
    const message = "Authenticate to vm-1 with code: 123456";
    const signature = await signer.signMessage({ message });
    expect(await wallet("who", message, signature)).toMatchObject({ code: 0, stdout: `${signer.address}\n` });
    expect(await wallet("who", signature, message)).toMatchObject({ code: 0, stdout: `${signer.address}\n` });
    expect((await wallet("who", message, "0x1234")).code).toBe(2);
  });

  test("set encrypt replaces the NFT payload, signed by the server wallet", async () => {
    expect((await wallet("set", "encrypt", "0", "0xabcdef01")).stdout).toMatch(TX_HASH);
    expect(
      await read(net, { address: nft, abi: accessCredentialNftAbi, functionName: "getUserEncrypted", args: [0n] }),
    ).toBe("0xabcdef01");
    expect((await wallet("set", "encrypt", "0", "abc")).code).toBe(2);
    expect((await wallet("set", "encrypt", "9", "0x00")).stderr).toContain("Token does not exist");
  });

  test("set encrypt --signature-file encrypts the connection details with the holder's signature key", async () => {
    const holder = privateKeyToAccount(anvil.accounts[ROLE_ACCOUNT.admin]!.privateKey);
    const signature = await holder.signMessage({ message: "blockhost-access" });
    const sigFile = join(root.dir, "admin.sig");
    writeFileSync(sigFile, `${signature}\n`, { mode: 0o600 });
    const details = '{"hostname":"203.0.113.7","port":22,"username":"admin"}';
    const r = await wallet("set", "encrypt", "0", "--signature-file", sigFile, "--plaintext", details);
    expect(r.stdout).toMatch(TX_HASH);
    const stored = await read<Hex>(net, {
      address: nft,
      abi: accessCredentialNftAbi,
      functionName: "getUserEncrypted",
      args: [0n],
    });
    expect(utf8(decryptWithSignature(signature, stored))).toBe(details);
    expect((await wallet("set", "encrypt", "0", "0x00", "--signature-file", sigFile)).code).toBe(2);
    expect((await wallet("set", "encrypt", "0", "--plaintext", details)).code).toBe(2);
  });

  test("swap sells a token for ETH through the configured Uniswap V2 router", async () => {
    const weth = await deployToken(net, "WETH", 18);
    const weiPerUnit = 500_000_000n; // 1 USDC (1e6 units) = 0.0005 ETH
    const hash = await net.wallets[0]!.deployContract({
      abi: mockUniswapV2RouterAbi,
      bytecode: mockUniswapV2RouterBytecode,
      args: [weth, weiPerUnit],
      value: parseEther("1"),
      account: net.wallets[0]!.account!,
      chain: net.wallets[0]!.chain,
    });
    const router = (await net.pub.waitForTransactionReceipt({ hash })).contractAddress!;
    root.web3.uniswap_v2 = { router };
    root.writeWeb3();
    const before = await balanceOf(net, stable, role("hot"));
    const r = await wallet("swap", "10", "stable", "eth", "hot");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(TX_HASH);
    expect(before - (await balanceOf(net, stable, role("hot")))).toBe(usdc(10));
    expect(await net.pub.getBalance({ address: router })).toBe(parseEther("1") - usdc(10) * weiPerUnit);
    expect((await wallet("swap", "10", "stable", "btc", "hot")).code).toBe(2);
  });

  test("an empty addressbook is a config error; who needs no addressbook", async () => {
    const book = join(root.configDir, "addressbook.json");
    renameSync(book, `${book}.saved`);
    writeFileSync(book, "{}");
    try {
      const r = await wallet("balance", "server");
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("addressbook is empty");
      expect((await wallet("who", "0")).code).toBe(0);
    } finally {
      renameSync(`${book}.saved`, book);
    }
  });

  test("every wallet command has --help", async () => {
    for (const cmd of [
      ["send"],
      ["balance"],
      ["split"],
      ["withdraw"],
      ["swap"],
      ["who"],
      ["config", "stable"],
      ["plan", "create"],
      ["set", "encrypt"],
    ]) {
      const r = await wallet(...cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Usage:");
    }
  });
});
