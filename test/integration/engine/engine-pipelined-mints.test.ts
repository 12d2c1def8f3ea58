/** Pipelined mints (several in flight, nonces assigned locally): SIGKILL while they wait, a dropped or stuck transaction, a reorg. */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { bytesToHex, type Hex, hexToBigInt, numberToHex } from "viem";
import { eciesEncrypt } from "../../../src/crypto/ecies.ts";
import { publicKeyOf } from "../../../src/crypto/keys.ts";
import { decryptWithSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import { JobQueue } from "../../../src/engine/queue.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { afterEnginePolls, afterReconcilePasses, expectServedOnce, pendingMints } from "../../helpers/engine-checks.ts";
import { EngineEnv, eventually, type EngineProcess, type Purchase } from "../../helpers/engine-env.ts";

setDefaultTimeout(180_000);

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups = [];
});

async function setup(
  n: number,
  engine: Record<string, number> = {},
): Promise<{ env: EngineEnv; purchases: Purchase[] }> {
  const env = await EngineEnv.create({ engine });
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
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 5, "all five recorded");
    expect(second.events().filter((e) => e.event === "engine.credential" && e.recovered)).toHaveLength(5);
    await expectServedOnce(env, purchases);
  });

  test("VM creates and chain work have their own bounds: one create at a time, chain_concurrency mints in flight", async () => {
    const { env, purchases } = await setup(5, { concurrency: 1, chain_concurrency: 3 });
    start(env);
    await eventually(
      async () => (await pendingMints(env)).length === 3,
      "three mints in flight behind one create slot",
    );
    await afterEnginePolls(env); // whole loop passes, each of which would have started a fourth
    expect(await pendingMints(env)).toHaveLength(3);
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 5, "all five minted");
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
      async () => (await env.vms()).filter((v) => v.nft_minted).length === 3,
      "gap repaired, all three minted",
    );
    // The same bytes again: by the dropped mint's own job, or by the gap check (whichever came first).
    const resent = engine
      .events()
      .filter((e) => ["engine.mint_rebroadcast", "engine.nonce_gap_filled"].includes(String(e.event)));
    expect(resent.some((e) => e.tx === inPool[0]!.hash)).toBe(true);
    expect(engine.events().filter((e) => e.event === "engine.nonce_gap_cancelled")).toEqual([]);
    await expectServedOnce(env, purchases);
  });

  test("a reorg that drops mints already recorded ends with exactly one NFT each (anvil snapshot/revert)", async () => {
    const { env, purchases } = await setup(4);
    const beforeMints = await env.anvil.snapshot();
    const engine = start(env);
    await eventually(async () => (await pendingMints(env)).length === 4, "four mints in flight");
    await env.anvil.mine(1);
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 4, "four mints recorded");
    // The block holding the four mints is replaced: the chain goes back to before it and grows another way.
    await env.anvil.revert(beforeMints);
    expect(await env.nftTotal()).toBe(0);
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    await eventually(
      async () => (await env.nftTotal()) === 4 && (await env.vms()).filter((v) => v.nft_minted).length === 4,
      "served again on the new chain",
    );
    // Reconcile passes go on (seen through an NFT's transfers, not a sleep): nothing may be minted twice late.
    const first = (await env.vms()).find((v) => v.subscription_id === purchases[0]!.subscriptionId)!;
    await afterReconcilePasses(env, engine, first.nft_token_id!, purchases[0]!.buyer, 9);
    await expectServedOnce(env, purchases);
    const noticed = engine.events().filter((e) => e.event === "engine.mint_reorged" || e.event === "engine.mint_moved");
    expect(new Set(noticed.map((e) => e.vm)).size).toBe(4);
  });

  test("a seal job sent while mints are in flight takes the next nonce from the same manager", async () => {
    const env = await EngineEnv.create();
    cleanups.push(() => env.stop());
    const empty = await env.buy(2, 30n, "0x"); // served without details: the holder asks for a seal later
    const first = start(env);
    const token = (await eventually(async () => (await env.vms()).find((v) => v.nft_minted), "the first NFT"))
      .nft_token_id!;
    expect(await first.stop()).toBe(0);
    const later = [await env.buy(3), await env.buy(4), await env.buy(5)];
    const holderSig = await env.signature(2);
    const sealPayload = bytesToHex(eciesEncrypt(publicKeyOf(env.serverKey), new TextEncoder().encode(holderSig)));
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"));
    new JobQueue(db, { baseMs: 200, maxMs: 1000 }).enqueue(
      "seal",
      `seal:${token}`,
      { token_id: token, payload: sealPayload },
      { rerun: true },
    );
    db.close();
    await env.anvil.rpc("evm_setAutomine", [false]);
    const second = start(env);
    const inPool = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 4 ? p : null;
    }, "three mints and the seal in flight together");
    expect(inPool.map((t) => t.nonce)).toEqual([...Array(4).keys()].map((k) => inPool[0]!.nonce + k));
    await env.anvil.rpc("evm_setAutomine", [true]);
    await env.anvil.mine(1);
    await eventually(async () => (await env.nftPayload(token)) !== "0x", "the NFT sealed");
    await eventually(async () => (await env.vms()).filter((v) => v.nft_minted).length === 4, "all four served");
    expect(second.events().filter((e) => e.event === "engine.job_failed")).toEqual([]);
    expect(utf8(decryptWithSignature(holderSig, await env.nftPayload(token)))).toContain('"port":22');
    await expectServedOnce(env, [empty, ...later]);
  });

  test("a stuck mint (its fee below the base fee) is re-priced at the same nonce and mined once", async () => {
    const { env, purchases } = await setup(1, { reprice_after_s: 2 });
    const engine = start(env);
    const [stuck] = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 1 ? p : null;
    }, "the mint in flight");
    const tx = await env.anvil.rpc<{ maxFeePerGas: Hex }>("eth_getTransactionByHash", [stuck!.hash]);
    await env.anvil.rpc("anvil_setNextBlockBaseFeePerGas", [numberToHex(hexToBigInt(tx.maxFeePerGas) * 3n)]);
    await env.anvil.mine(1);
    expect(await env.nftTotal()).toBe(0); // priced out of the block
    const [replacement] = await eventually(async () => {
      const p = await pendingMints(env);
      return p.length === 1 && p[0]!.hash !== stuck!.hash ? p : null;
    }, "a replacement at the same nonce");
    expect(replacement!.nonce).toBe(stuck!.nonce);
    await env.anvil.mine(1);
    await eventually(async () => (await env.vms()).some((v) => v.nft_minted), "minted by the replacement");
    const receipt = await env.net.pub.getTransactionReceipt({ hash: replacement!.hash });
    expect(receipt.status).toBe("success");
    expect(engine.events().some((e) => e.event === "engine.mint_repriced" && e.nonce === stuck!.nonce)).toBe(true);
    await expectServedOnce(env, purchases);
  });
});
