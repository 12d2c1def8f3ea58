/** Recorded mints watched until their block is deep enough: a reorg that drops one puts its provision job back. */
import { formatTransactionReceipt, hexToBigInt, numberToHex, type Hex, type TransactionReceipt } from "viem";
import { tokenIdFromReceipt } from "../chain/mint.ts";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { listVms, updateVm, type VmRecord } from "../core/state/vms.ts";
import type { EngineContext } from "./context.ts";
import { jobKey } from "./events.ts";
import { intentFromExtra, intentToExtra, type Minted } from "./mint.ts";

/** VMs whose mint is checked in one JSON-RPC batch (each adds its block and one receipt per recorded hash). */
const WATCH_BATCH = 10;

/** The VM's `extra` once its mint is recorded: the intent stays, with the block the mint is in. */
export function watchedExtra(extra: Record<string, unknown>, minted: Minted): Record<string, unknown> {
  if (minted.block === null || minted.blockHash === null) return intentToExtra(extra, null);
  return { ...extra, mint_block: String(minted.block), mint_block_hash: minted.blockHash };
}

function unwatched(extra: Record<string, unknown>): Record<string, unknown> {
  const { mint_block, mint_block_hash, ...rest } = extra;
  return rest;
}

const isWatched = (vm: VmRecord) =>
  vm.nft_minted && vm.status !== "destroyed" && typeof vm.extra.mint_block === "string" && vm.subscription_id !== null;

/**
 * For each watched mint, ask one node for the block at the recorded number and the receipts of
 * the recorded hashes. Receipt in the recorded block: confirmed once `confirmations + reread
 * blocks` deep (the intent is dropped). Receipt in another block: the mint was re-included (its
 * token id is taken from the new receipt). No receipt and a different block at that number: the
 * mint was reorged out — the VM goes back to "no NFT" with its intent, and its provision job
 * re-sends the same signed bytes or proves the nonce used and mints anew. A node without that
 * block proves nothing (it lags): the check waits for the next pass.
 */
export async function watchMints(ctx: EngineContext, deadline: number): Promise<void> {
  const watched = listVms(ctx.db).filter(isWatched);
  const depth = BigInt(ctx.settings.confirmations + ctx.settings.rereadBlocks);
  for (let i = 0; i < watched.length && Date.now() < deadline; i += WATCH_BATCH) {
    const part = watched.slice(i, i + WATCH_BATCH);
    const calls = [{ method: "eth_blockNumber", params: [] as unknown[] }];
    for (const vm of part) {
      calls.push({ method: "eth_getBlockByNumber", params: [numberToHex(BigInt(String(vm.extra.mint_block))), false] });
      for (const h of intentFromExtra(vm.extra)?.hashes ?? [])
        calls.push({ method: "eth_getTransactionReceipt", params: [h] });
    }
    const { answers } = await ctx.rpc.batch(calls);
    const failed = answers.find((a) => a.error);
    if (failed) throw new BlockhostError("E_CHAIN", `check recorded mints: ${failed.error!.message}`);
    const head = hexToBigInt(answers[0]!.result as Hex);
    let k = 1;
    for (const vm of part) {
      const block = answers[k++]!.result as { hash: Hex } | null;
      let receipt: TransactionReceipt | null = null;
      for (const _ of intentFromExtra(vm.extra)?.hashes ?? []) {
        const r = answers[k++]!.result;
        if (r && !receipt) receipt = formatTransactionReceipt(r as never) as TransactionReceipt;
      }
      check(ctx, vm, { head, depth, block, receipt });
    }
  }
}

function check(
  ctx: EngineContext,
  vm: VmRecord,
  seen: { head: bigint; depth: bigint; block: { hash: Hex } | null; receipt: TransactionReceipt | null },
): void {
  const recorded = vm.extra.mint_block_hash as Hex;
  const { receipt, block } = seen;
  if (receipt?.status === "success") {
    if (receipt.blockHash === recorded) {
      if (seen.head - receipt.blockNumber >= seen.depth)
        updateVm(ctx.db, vm.vm_name, { extra: intentToExtra(unwatched(vm.extra), null) });
      return;
    }
    const tokenId = Number(tokenIdFromReceipt(receipt, ctx.settings.nft));
    updateVm(ctx.db, vm.vm_name, {
      nft_token_id: tokenId,
      gecos_synced: tokenId === vm.nft_token_id,
      extra: { ...vm.extra, mint_block: String(receipt.blockNumber), mint_block_hash: receipt.blockHash },
    });
    if (tokenId !== vm.nft_token_id)
      ctx.queue.enqueue("gecos", jobKey.gecos(vm.vm_name), { vm: vm.vm_name }, { rerun: true });
    logEvent("engine.mint_moved", { vm: vm.vm_name, token_id: tokenId, block: String(receipt.blockNumber) });
    return;
  }
  // Without the block the node cannot vouch for anything; with the same block it contradicts itself.
  if (!receipt && (block === null || block.hash === recorded)) return;
  updateVm(ctx.db, vm.vm_name, {
    nft_minted: false,
    nft_token_id: null,
    nft_minted_at: null,
    gecos_synced: false,
    extra: unwatched(vm.extra),
  });
  const sub = vm.subscription_id!;
  ctx.queue.enqueue(
    "provision",
    jobKey.provision(ctx.settings.chainId, sub),
    { subscription_id: sub },
    { rerun: true },
  );
  logEvent("engine.mint_reorged", {
    vm: vm.vm_name,
    token_id: vm.nft_token_id,
    block: String(vm.extra.mint_block),
    ...(receipt ? { reverted: true } : {}),
  });
}
