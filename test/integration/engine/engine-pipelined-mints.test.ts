/** Pipelined mints (several in flight, nonces assigned locally): a SIGKILL while they wait, a dropped transaction. */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Hex } from "viem";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv, eventually, type EngineProcess, type Purchase } from "../../helpers/engine-env.ts";

setDefaultTimeout(180_000);

type VmJson = { status: string; subscription_id: number | null; nft_token_id: number | null; nft_minted: boolean };
type TxPool = { pending: Record<string, Record<string, { hash: Hex; nonce: Hex }>> };

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups = [];
});

const vms = async (env: EngineEnv) =>
  JSON.parse((await runBlockhost(["vm", "list", "--json"], { root: env.root })).stdout) as VmJson[];

/** The minter's transactions waiting in anvil's pool, lowest nonce first. */
async function pendingMints(env: EngineEnv): Promise<Array<{ hash: Hex; nonce: number }>> {
  const pool = await env.anvil.rpc<TxPool>("txpool_content");
  const mine =
    Object.entries(pool.pending).find(
      ([from]) => from.toLowerCase() === env.anvil.accounts[0]!.address.toLowerCase(),
    )?.[1] ?? {};
  return Object.values(mine)
    .map((t) => ({ hash: t.hash, nonce: Number(t.nonce) }))
    .sort((a, b) => a.nonce - b.nonce);
}

async function setup(n: number): Promise<{ env: EngineEnv; purchases: Purchase[] }> {
  const env = await EngineEnv.create();
  cleanups.push(() => env.stop());
  const purchases: Purchase[] = [];
  for (let i = 0; i < n; i++) purchases.push(await env.buy(1 + i));
  // From now on nothing is mined until the test says so: the engine's mints wait in the pool together.
  await env.anvil.rpc("evm_setAutomine", [false]);
  return { env, purchases };
}

function start(env: EngineEnv): EngineProcess {
  const e = env.startEngine();
  cleanups.push(() => e.stop());
  return e;
}

async function expectServedOnce(env: EngineEnv, purchases: Purchase[]): Promise<void> {
  const live = (await vms(env)).filter((v) => v.status === "active" && v.nft_minted);
  expect(live).toHaveLength(purchases.length);
  expect(new Set(live.map((v) => v.nft_token_id)).size).toBe(purchases.length);
  expect(await env.nftTotal()).toBe(purchases.length);
  for (const p of purchases) {
    const vm = live.find((v) => v.subscription_id === p.subscriptionId)!;
    expect(await env.nftOwner(vm.nft_token_id!)).toBe(env.anvil.accounts[p.buyer]!.address);
  }
}

describe.skipIf(!anvilAvailable())("pipelined mints (anvil, compiled binary, dry-run backend)", () => {
  test("mints are sent without waiting for each other; a SIGKILL before their receipts are recorded mints nothing twice", async () => {
    const { env, purchases } = await setup(5);
    const first = start(env);
    const inPool = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 5 ? p : null;
    }, "five mints in flight at once");
    expect(inPool.map((t) => t.nonce)).toEqual([...Array(5).keys()].map((k) => inPool[0]!.nonce + k));
    await first.stop("SIGKILL");
    await env.anvil.mine(1);
    await env.anvil.rpc("evm_setAutomine", [true]);
    const second = start(env);
    await eventually(async () => (await vms(env)).filter((v) => v.nft_minted).length === 5, "all five recorded");
    expect(second.events().filter((e) => e.event === "engine.credential" && e.recovered)).toHaveLength(5);
    await expectServedOnce(env, purchases);
  });

  test("a dropped transaction leaves a nonce gap that the engine repairs with the same bytes", async () => {
    const { env, purchases } = await setup(3);
    const engine = start(env);
    const inPool = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 3 ? p : null;
    }, "three mints in flight");
    await env.anvil.rpc("anvil_dropTransaction", [inPool[0]!.hash]);
    await env.anvil.mine(1);
    expect(await env.nftTotal()).toBe(0); // the later nonces wait behind the gap
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    await eventually(
      async () => (await vms(env)).filter((v) => v.nft_minted).length === 3,
      "gap repaired, all three minted",
    );
    expect(engine.events().some((e) => e.event === "engine.mint_rebroadcast" && e.tx === inPool[0]!.hash)).toBe(true);
    await expectServedOnce(env, purchases);
  });
});
