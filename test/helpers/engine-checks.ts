/** What engine tests check on a running host: the minter's transactions in anvil's pool, one NFT per purchase. */
import { expect } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { Hex } from "viem";
import { getMeta } from "../../src/core/state/meta.ts";
import { type EngineEnv, type EngineProcess, eventually, type Purchase } from "./engine-env.ts";

type PoolTxs = Record<string, Record<string, { hash: Hex; nonce: Hex }>>;
type TxPool = { pending: PoolTxs; queued: PoolTxs };

/** The minter's transactions waiting in anvil's pool (ready, or queued behind a nonce gap), lowest nonce first. */
export async function pendingMints(env: EngineEnv): Promise<Array<{ hash: Hex; nonce: number }>> {
  const pool = await env.anvil.rpc<TxPool>("txpool_content");
  const minter = env.anvil.accounts[0]!.address.toLowerCase();
  const mine = [pool.pending, pool.queued].flatMap((txs) =>
    Object.entries(txs ?? {}).flatMap(([from, byNonce]) =>
      from.toLowerCase() === minter ? Object.values(byNonce) : [],
    ),
  );
  return mine.map((t) => ({ hash: t.hash, nonce: Number(t.nonce) })).sort((a, b) => a.nonce - b.nonce);
}

/** Every purchase has exactly one active VM and one NFT, owned by its buyer; no other NFT exists. */
export async function expectServedOnce(env: EngineEnv, purchases: Purchase[], otherNfts = 0): Promise<void> {
  const live = (await env.vms()).filter((v) => v.status === "active" && v.nft_minted);
  expect(live).toHaveLength(purchases.length);
  expect(new Set(live.map((v) => v.nft_token_id)).size).toBe(purchases.length);
  expect(await env.nftTotal()).toBe(purchases.length + otherNfts);
  for (const p of purchases) {
    const vm = live.find((v) => v.subscription_id === p.subscriptionId)!;
    expect(await env.nftOwner(vm.nft_token_id!)).toBe(env.anvil.accounts[p.buyer]!.address);
  }
}

/**
 * Returns once whole reconcile passes have run after the call, proven by what the reconciler does rather
 * than by a sleep: it logs `engine.owner_changed` when it sees an NFT transfer, and reads each owner once
 * per pass. The token goes holder → other → holder → other → holder, each transfer sent only after the
 * previous one was seen, so the passes that saw the second and third transfers began after this call
 * and ran to their end. The token ends with its holder.
 */
export async function afterReconcilePasses(
  env: EngineEnv,
  engine: EngineProcess,
  tokenId: number,
  holder: number,
  other: number,
): Promise<void> {
  const seen = (to: number) =>
    engine
      .events()
      .filter(
        (e) =>
          e.event === "engine.owner_changed" &&
          Number(e.token_id) === tokenId &&
          String(e.owner).toLowerCase() === env.anvil.accounts[to]!.address.toLowerCase(),
      ).length;
  for (const [from, to] of [
    [holder, other],
    [other, holder],
    [holder, other],
    [other, holder],
  ] as const) {
    const before = seen(to);
    await env.transferNft(tokenId, from, to);
    await eventually(() => seen(to) > before, `the reconciler saw NFT #${tokenId} move to account ${to}`);
  }
}

/**
 * Returns once the engine has polled the chain `polls` more times after the call (its
 * `engine.last_poll_at` heartbeat changed), proven by the heartbeat rather than by a sleep. A loop
 * pass starts due jobs right after its poll, so after two polls a whole pass ran after this call.
 */
export async function afterEnginePolls(env: EngineEnv, polls = 2): Promise<void> {
  const lastPoll = () => {
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"), { readonly: true });
    try {
      return getMeta(db, "engine.last_poll_at");
    } finally {
      db.close();
    }
  };
  let seen = lastPoll();
  for (let i = 1; i <= polls; i++) {
    seen = await eventually(async () => {
      const now = lastPoll();
      return now !== seen ? now : null;
    }, `engine poll ${i} of ${polls} after the check began`);
  }
}
