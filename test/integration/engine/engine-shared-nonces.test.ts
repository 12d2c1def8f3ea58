/** One nonce ledger for the host wallet across processes: serve's plan writes beside the engine's mints in flight, and gaps left by a killed sender. */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { encodeFunctionData, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { REPO } from "../../helpers/binary.ts";
import { expectServedOnce, pendingMints } from "../../helpers/engine-checks.ts";
import { EngineEnv, eventually, OWNER, type EngineProcess, type Purchase } from "../../helpers/engine-env.ts";

setDefaultTimeout(180_000);

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups = [];
});

/** A test fixture script run by Bun in its own process; its stdout JSON lines are collected. */
class Child {
  readonly proc: Bun.Subprocess<"pipe", "pipe", "pipe">;
  readonly lines: Array<Record<string, unknown>> = [];
  stderr = "";

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    const proc = Bun.spawn([process.execPath, join(REPO, "test/fixtures", script), ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.proc = proc;
    cleanups.push(async () => {
      this.proc.kill("SIGKILL");
      await this.proc.exited;
    });
    void (async () => {
      let buf = "";
      for await (const chunk of proc.stdout) {
        buf += new TextDecoder().decode(chunk);
        const parts = buf.split("\n");
        buf = parts.pop()!;
        for (const l of parts) if (l.trim()) this.lines.push(JSON.parse(l) as Record<string, unknown>);
      }
    })();
    void (async () => {
      for await (const chunk of proc.stderr) this.stderr += new TextDecoder().decode(chunk);
    })();
  }

  async line(n: number): Promise<Record<string, unknown>> {
    return await eventually(() => this.lines[n], `line ${n + 1} of the second process (stderr: ${this.stderr})`);
  }
}

function start(env: EngineEnv): EngineProcess {
  const e = env.startEngine();
  cleanups.push(() => e.stop());
  return e;
}

async function host(purchases: number): Promise<{ env: EngineEnv; bought: Purchase[] }> {
  const env = await EngineEnv.create();
  cleanups.push(() => env.stop());
  const bought: Purchase[] = [];
  for (let i = 0; i < purchases; i++) bought.push(await env.buy(1 + (i % 9)));
  // From now on nothing is mined until the test says so: the engine's mints wait in the pool together.
  await env.anvil.rpc("evm_setAutomine", [false]);
  return { env, bought };
}

const dbFile = (env: EngineEnv) => join(env.root, "var/lib/blockhost/blockhost.db");
const hostWallet = (env: EngineEnv) => env.anvil.accounts[OWNER]!;

/** What a user would see go wrong: failed jobs, or sends refused for a used nonce. */
function expectNoNonceTrouble(engine: EngineProcess): void {
  expect(engine.events().filter((e) => e.event === "engine.job_failed")).toEqual([]);
  expect(engine.log).not.toMatch(/nonce too low|already used|replacement transaction underpriced/i);
}

/** The reserver process: reserves the host wallet's next nonce (the chain's pending count as floor) and stops there. */
async function reserver(env: EngineEnv, mode?: "record"): Promise<{ child: Child; nonce: number }> {
  const floor = await env.net.pub.getTransactionCount({ address: hostWallet(env).address, blockTag: "pending" });
  const child = new Child("ledger-reserver.ts", [
    dbFile(env),
    String(env.anvil.chainId),
    hostWallet(env).address,
    String(floor),
    ...(mode ? [mode] : []),
  ]);
  const { nonce } = (await child.line(0)) as { nonce: number };
  expect(nonce).toBe(floor);
  return { child, nonce };
}

describe.skipIf(!anvilAvailable())("one nonce ledger per sending key (anvil, compiled engine, second process)", () => {
  test("serve creates plans while the engine has 24 mints in flight: every plan created, every purchase served once", async () => {
    const { env, bought } = await host(24);
    const engine = start(env);
    await eventually(async () => (await pendingMints(env)).length === 24, "twenty-four mints in flight at once");
    const writer = new Child("serve-plan-writer.ts", ["5"], { BLOCKHOST_ROOT: env.root });
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    // More purchases arrive while the plans are written: their mints take nonces between the plan writes.
    for (let i = 0; i < 6; i++) bought.push(await env.buy(1 + i));
    expect(await writer.proc.exited).toBe(0);
    expect(writer.lines.map((l) => l.plan)).toEqual([0, 1, 2, 3, 4]);
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 30, "thirty served");

    const plans = await Promise.all(
      [2, 3, 4, 5, 6].map((id) =>
        env.net.pub.readContract({
          address: env.subs,
          abi: blockhostSubscriptionsAbi,
          functionName: "getPlan",
          args: [BigInt(id)],
        }),
      ),
    );
    expect(plans.map(([name, cents, active]) => [name, cents, active])).toEqual(
      [0, 1, 2, 3, 4].map((i) => [`Plan ${i}`, BigInt(200 + i), true]),
    );
    // Each plan write was recorded in the ledger before it was sent, at a nonce among the mints'.
    const db = new Database(dbFile(env), { readonly: true });
    const rows = db
      .query("SELECT nonce, tx_hash, state FROM sent_txs WHERE purpose = 'create a plan' ORDER BY nonce")
      .all() as Array<{ nonce: number; tx_hash: Hex; state: string }>;
    db.close();
    expect(rows.map((r) => [r.tx_hash, r.state])).toEqual(writer.lines.map((l) => [l.hash as Hex, "done"]));
    const firstMint = (await env.net.pub.getTransactionCount({ address: hostWallet(env).address })) - 35;
    expect(rows[0]!.nonce).toBeGreaterThanOrEqual(firstMint + 24);
    expectNoNonceTrouble(engine);
    await expectServedOnce(env, bought);
  });

  test("a reservation whose process was SIGKILLed before it signed: the engine fills the gap and the mints behind it are mined", async () => {
    const { env, bought } = await host(3);
    const { child, nonce } = await reserver(env);
    const engine = start(env);
    const inPool = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 3 ? p : null;
    }, "three mints in flight behind the reservation");
    expect(inPool.map((t) => t.nonce)).toEqual([nonce + 1, nonce + 2, nonce + 3]);
    await env.anvil.mine(1);
    expect(await env.nftTotal()).toBe(0); // they wait behind the reserved nonce
    child.proc.kill("SIGKILL");
    await child.proc.exited;
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 3, "all three minted");

    const cancels = engine.events().filter((e) => e.event === "engine.nonce_gap_cancelled");
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({ nonce, reserved_for: "update plan 1", reserver_pid: child.proc.pid });
    const tx = await env.net.pub.getTransaction({ hash: cancels[0]!.tx as Hex });
    const wallet = hostWallet(env).address;
    expect([tx.from, tx.to, tx.value, tx.nonce]).toEqual([
      wallet.toLowerCase() as Hex,
      wallet.toLowerCase() as Hex,
      0n,
      nonce,
    ]);
    expectNoNonceTrouble(engine);
    await expectServedOnce(env, bought);
  });

  test("a sender killed after recording its signed transaction, before sending it: the engine broadcasts those bytes", async () => {
    const { env, bought } = await host(2);
    const { child, nonce } = await reserver(env, "record");
    const owner = privateKeyToAccount(hostWallet(env).privateKey);
    const fees = await env.net.pub.estimateFeesPerGas();
    const raw = await owner.signTransaction({
      chainId: env.anvil.chainId,
      type: "eip1559",
      to: env.subs,
      data: encodeFunctionData({
        abi: blockhostSubscriptionsAbi,
        functionName: "updatePlan",
        args: [1n, "Basic", 150n, true],
      }),
      gas: 200_000n,
      nonce,
      ...fees,
    });
    child.proc.stdin.write(`${raw}\n`);
    await child.proc.stdin.flush();
    const { recorded } = (await child.line(1)) as { recorded: Hex };
    child.proc.kill("SIGKILL");
    await child.proc.exited;
    const engine = start(env);
    // The engine finds the recorded bytes at the nonce the chain waits on and sends them; its mints follow.
    const inPool = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 3 ? p : null;
    }, "the recorded transaction and two mints in the pool");
    expect(inPool.map((t) => [t.nonce, t.nonce === nonce ? t.hash : "mint"])).toEqual([
      [nonce, recorded],
      [nonce + 1, "mint"],
      [nonce + 2, "mint"],
    ]);
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 2, "both minted");

    expect(engine.events().some((e) => e.event === "engine.nonce_gap_filled" && e.tx === recorded)).toBe(true);
    expect((await env.net.pub.getTransactionReceipt({ hash: recorded })).status).toBe("success");
    const [, cents] = await env.net.pub.readContract({
      address: env.subs,
      abi: blockhostSubscriptionsAbi,
      functionName: "getPlan",
      args: [1n],
    });
    expect(cents).toBe(150n);
    expect(engine.events().filter((e) => e.event === "engine.nonce_gap_cancelled")).toEqual([]);
    expectNoNonceTrouble(engine);
    await expectServedOnce(env, bought);
  });

  test("with no mint waiting, a plan write stuck behind a killed reserver's nonce is unblocked by the engine", async () => {
    const { env } = await host(0);
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    const engine = start(env);
    const { child, nonce } = await reserver(env);
    const writer = new Child("serve-plan-writer.ts", ["1"], { BLOCKHOST_ROOT: env.root });
    const [write] = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 1 ? p : null;
    }, "the plan write waiting behind the reserved nonce");
    expect(write!.nonce).toBe(nonce + 1);
    child.proc.kill("SIGKILL");
    await child.proc.exited;
    expect(await writer.proc.exited).toBe(0);
    expect(writer.lines[0]).toMatchObject({ plan: 0, hash: write!.hash });
    expect(engine.events().filter((e) => e.event === "engine.nonce_gap_cancelled")).toMatchObject([{ nonce }]);
    expectNoNonceTrouble(engine);
  });
});
