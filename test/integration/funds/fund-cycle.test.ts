// Fund manager on anvil through the compiled binary: exact balances after a cycle, a cycle killed after its withdrawal, the gas swap.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { erc20Abi, maxUint256, parseEther, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { blockhostSubscriptionsAbi as subsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import {
  mockUniswapV2PairAbi,
  mockUniswapV2PairBytecode,
} from "../../../src/chain/contracts/generated/test/MockUniswapV2Pair.ts";
import {
  mockUniswapV2RouterAbi,
  mockUniswapV2RouterBytecode,
} from "../../../src/chain/contracts/generated/test/MockUniswapV2Router.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { approve, balanceOf, deploy, deployToken, read, send } from "../../helpers/contracts.ts";
import { EngineEnv, OWNER } from "../../helpers/engine-env.ts";
import { ensureServiceAccount } from "../../helpers/service-account.ts";

setDefaultTimeout(120_000);

const usdc = (n: number) => BigInt(Math.round(n * 1_000_000));
const randomAddress = (): Hex =>
  privateKeyToAccount(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`).address;

describe.skipIf(!anvilAvailable())("fund manager (anvil, agent, compiled binary)", () => {
  let env: EngineEnv;
  let agent: RunningAgent;
  let stable: Hex, tkn: Hex;
  const roles = { admin: randomAddress(), dev: randomAddress(), broker: randomAddress() };
  const server = () => env.anvil.accounts[OWNER]!.address;
  const funds = (...args: string[]) => runBlockhost(["funds", ...args], { root: env.root });
  const hot = (): Hex => JSON.parse(readFileSync(join(env.root, "etc/blockhost/addressbook.json"), "utf8")).hot.address;
  const withdrawals = async () =>
    (
      await env.net.pub.getContractEvents({
        address: env.subs,
        abi: subsAbi,
        eventName: "FundsWithdrawn",
        fromBlock: 0n,
      })
    ).length;

  beforeAll(async () => {
    ensureServiceAccount();
    env = await EngineEnv.create();
    agent = await startAgent({ root: env.root });
    stable = await read<Hex>(env.net, { address: env.subs, abi: subsAbi, functionName: "getPrimaryStablecoin" });
    // A second payment token priced at $2 by its pair; buyers 1..9 hold some.
    tkn = await deployToken(env.net, "TKN", 18, [[2, parseEther("1000")]]);
    const pair = await deploy(env.net, OWNER, mockUniswapV2PairAbi, mockUniswapV2PairBytecode, [
      tkn,
      stable,
      parseEther("10000"),
      usdc(20_000),
    ]);
    await send(env.net, OWNER, {
      address: env.subs,
      abi: subsAbi,
      functionName: "addPaymentMethod",
      args: [tkn, pair, stable],
    });
    await approve(env.net, 2, tkn, env.subs, maxUint256);
    const etc = join(env.root, "etc/blockhost");
    const book = {
      admin: { address: roles.admin },
      server: { address: server(), keyfile: join(etc, "deployer.key") },
      dev: { address: roles.dev },
      broker: { address: roles.broker },
    };
    writeFileSync(join(etc, "addressbook.json"), JSON.stringify(book));
    chmodSync(join(etc, "addressbook.json"), 0o640);
    writeFileSync(
      join(etc, "revenue-share.json"),
      JSON.stringify({
        enabled: true,
        total_percent: 3,
        recipients: [
          { role: "dev", percent: 2 },
          { role: "broker", percent: 1 },
        ],
      }),
    );
    appendFileSync(
      join(etc, "blockhost.yaml"),
      "fund_manager: {min_withdrawal_usd: 50, server_stablecoin_buffer_usd: 50, hot_wallet_gas_eth: 0.01}\n",
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await env?.stop();
  });

  test("a cycle: USDC over the threshold withdrawn and shared, TKN under it left; exact balances", async () => {
    await env.buy(1, 100n, "0x"); // $100 in USDC
    await env.buy(2, 10n, "0x", 2n); // $10 in TKN
    const tknHeld = await balanceOf(env.net, tkn, env.subs);

    const dry = await funds("run", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("withdraw      100 USDC server → hot");
    expect(dry.stdout).toMatch(/withdraw TKN: \$10\.\d\d is under min_withdrawal_usd \$50/);
    expect(await balanceOf(env.net, stable, env.subs)).toBe(usdc(100)); // a dry run moves nothing

    const serverEthBefore = await env.net.pub.getBalance({ address: server() });
    const run = await funds("run");
    expect(run.stderr).not.toContain("blockhost funds run:");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("withdraw "))).toHaveLength(1);
    expect(await balanceOf(env.net, stable, env.subs)).toBe(0n);
    expect(await balanceOf(env.net, tkn, env.subs)).toBe(tknHeld);
    // 100 withdrawn → 50 refill server's buffer → 3% of the 50 left: dev 2/3, broker 1/3 → 48.5 to admin.
    expect(await balanceOf(env.net, stable, server())).toBe(usdc(50));
    expect(await balanceOf(env.net, stable, roles.dev)).toBe(usdc(1));
    expect(await balanceOf(env.net, stable, roles.broker)).toBe(usdc(0.5));
    expect(await balanceOf(env.net, stable, roles.admin)).toBe(usdc(48.5));
    expect(await balanceOf(env.net, stable, hot())).toBe(0n);
    // hot got 0.01 ETH for gas, spent some on its four transfers, and the gas check topped it up again.
    expect(run.stdout.split("\n").filter((l) => l.startsWith("hot_gas ")).length).toBe(2);
    expect(await env.net.pub.getBalance({ address: hot() })).toBe(parseEther("0.01"));
    expect(serverEthBefore - (await env.net.pub.getBalance({ address: server() }))).toBeGreaterThan(parseEther("0.01"));
    expect((await funds("status")).stdout).toContain("withdraw");
    const json = JSON.parse((await funds("status", "--json")).stdout);
    expect(Object.keys(json)).toEqual([
      "last_fund_cycle",
      "fund_cycle_retry_at",
      "last_gas_check",
      "recent_transfers",
      "plan",
      "plan_error",
    ]);
    expect(json.recent_transfers.map((t: { step: string }) => t.step)).toContain("withdraw");
    expect(json.plan_error).toBeNull();
  });

  test("a cycle killed after its withdrawal was sent, then run again: nothing is sent twice", async () => {
    await env.buy(3, 100n, "0x");
    const before = {
      admin: await balanceOf(env.net, stable, roles.admin),
      dev: await balanceOf(env.net, stable, roles.dev),
      broker: await balanceOf(env.net, stable, roles.broker),
      withdrawals: await withdrawals(),
    };
    await env.anvil.rpc("evm_setAutomine", [false]);
    const proc = Bun.spawn([join(import.meta.dir, "../../../dist/blockhost"), "funds", "run"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: env.root },
      stdout: "ignore",
      stderr: "ignore",
    });
    // The withdrawal is signed, recorded and in anvil's mempool: kill the run while it waits for the receipt.
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"), { readonly: true });
    try {
      for (let i = 0; i < 600; i++) {
        const pending =
          Number(await env.anvil.rpc<Hex>("eth_getTransactionCount", [server(), "pending"])) >
          Number(await env.anvil.rpc<Hex>("eth_getTransactionCount", [server(), "latest"]));
        if (pending) break;
        await Bun.sleep(50);
      }
      proc.kill("SIGKILL");
      await proc.exited;
      const signed = db.query("SELECT step, state FROM fund_transfers WHERE state = 'signed'").all();
      expect(signed).toEqual([{ step: "withdraw", state: "signed" }]);
    } finally {
      db.close();
    }
    await env.anvil.rpc("evm_mine");
    await env.anvil.rpc("evm_setAutomine", [true]);

    const again = await funds("run");
    expect(again.stderr).not.toContain("blockhost funds run:");
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/^withdraw /m);
    expect(again.stdout).toContain("settled 1 transfer(s) left by an interrupted run");
    expect(await withdrawals()).toBe(before.withdrawals + 1);
    // Server's buffer is full now: all 100 is shared, 3 → dev 2, broker 1, admin 97.
    expect((await balanceOf(env.net, stable, roles.dev)) - before.dev).toBe(usdc(2));
    expect((await balanceOf(env.net, stable, roles.broker)) - before.broker).toBe(usdc(1));
    expect((await balanceOf(env.net, stable, roles.admin)) - before.admin).toBe(usdc(97));
    const db2 = new Database(join(env.root, "var/lib/blockhost/blockhost.db"), { readonly: true });
    try {
      expect(
        db2.query("SELECT COUNT(*) AS n FROM fund_transfers WHERE step = 'withdraw' AND state = 'done'").get(),
      ).toEqual({ n: 2 });
      expect(db2.query("SELECT COUNT(*) AS n FROM fund_transfers WHERE state = 'signed'").get()).toEqual({ n: 0 });
    } finally {
      db2.close();
    }
  });

  test("gas check: server low on ETH (by a high threshold) swaps exactly gas_swap_amount_usd of USDC through the router", async () => {
    // ETH at $2000 by the WETH/USDC pair; the router pays the same rate from its own ETH.
    const weth = await deployToken(env.net, "WETH", 18, []);
    const pair = await deploy(env.net, OWNER, mockUniswapV2PairAbi, mockUniswapV2PairBytecode, [
      weth,
      stable,
      parseEther("100"),
      usdc(200_000),
    ]);
    const router = await deploy(env.net, OWNER, mockUniswapV2RouterAbi, mockUniswapV2RouterBytecode, [
      weth,
      500_000_000n,
    ]);
    await env.net.wallets[OWNER]!.sendTransaction({
      account: env.net.wallets[OWNER]!.account!,
      chain: env.net.wallets[OWNER]!.chain,
      to: router,
      value: parseEther("1"),
    });
    const etc = join(env.root, "etc/blockhost");
    appendFileSync(
      join(etc, "web3-defaults.yaml"),
      `uniswap_v2: {router: '${router}', weth: '${weth}', usdc: '${stable}', usdc_weth_pair: '${pair}'}\n`,
    );
    const yaml = readFileSync(join(etc, "blockhost.yaml"), "utf8").replace(
      /fund_manager: .*\n/,
      "fund_manager: {gas_low_threshold_usd: 1000000000, gas_swap_amount_usd: 20, min_withdrawal_usd: 50}\n",
    );
    writeFileSync(join(etc, "blockhost.yaml"), yaml);
    const serverUsdc = await balanceOf(env.net, stable, server());
    const routerEth = await env.net.pub.getBalance({ address: router });

    const dry = await funds("run", "--dry-run");
    expect(dry.stdout).toContain("gas_swap      20 USDC→ETH server → server");
    expect(await balanceOf(env.net, stable, server())).toBe(serverUsdc);

    const run = await funds("run");
    expect(run.stderr).not.toContain("blockhost funds run:");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/gas_swap {6}20 USDC→ETH server → server \(0x[0-9a-fA-F]{40}\) 0x[0-9a-f]{64}/);
    expect(serverUsdc - (await balanceOf(env.net, stable, server()))).toBe(usdc(20));
    expect(routerEth - (await env.net.pub.getBalance({ address: router }))).toBe(usdc(20) * 500_000_000n);
    // Exactly the swapped amount was approved: nothing left for the router to pull.
    expect(
      await read(env.net, { address: stable, abi: erc20Abi, functionName: "allowance", args: [server(), router] }),
    ).toBe(0n);
  });

  test("an overlapping run is refused while another holds the fund lease", async () => {
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"));
    try {
      db.query("INSERT OR REPLACE INTO fund_lease (id, holder, expires_at) VALUES (1, ?, ?)").run(
        `${hostname()}:${process.pid}:test`,
        Date.now() + 60_000,
      );
      const r = await funds("run");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("another fund cycle is running");
      db.query("DELETE FROM fund_lease").run();
    } finally {
      db.close();
    }
  });

  test("the engine runs the cycle when due and keeps its interval across restarts (SQLite timers)", async () => {
    const yamlFile = join(env.root, "etc/blockhost/blockhost.yaml");
    writeFileSync(
      yamlFile,
      readFileSync(yamlFile, "utf8").replace(
        /fund_manager: .*\n/,
        "fund_manager: {min_withdrawal_usd: 50, fund_cycle_interval_hours: 24}\n",
      ),
    );
    await env.buy(4, 100n);
    const first = env.startEngine(["--once"]);
    expect(await first.done).toBe(0);
    expect(first.events().filter((e) => e.event === "funds.cycle_done")).toHaveLength(1);
    expect(await balanceOf(env.net, stable, env.subs)).toBe(0n);
    await env.buy(5, 100n);
    const second = env.startEngine(["--once"]);
    expect(await second.done).toBe(0);
    expect(second.events().some((e) => e.event === "funds.enabled")).toBe(true);
    expect(second.events().filter((e) => e.event === "funds.cycle_done")).toHaveLength(0);
    expect(await balanceOf(env.net, stable, env.subs)).toBe(usdc(100));
  });
});
