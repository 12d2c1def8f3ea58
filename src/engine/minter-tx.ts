/** Transactions the engine signs with the minting key: nonces from its one NonceManager, receipts from the shared batcher. */
import { keccak256, type Hex, type PublicClient, type TransactionReceipt } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { chainError, onChain } from "../chain/errors.ts";
import { RECEIPT_TIMEOUT_MS } from "../chain/tx.ts";
import type { RpcPool } from "../chain/rpc-pool.ts";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { broadcast } from "./broadcast.ts";
import type { EngineContext } from "./context.ts";
import type { FeeCache } from "./fees.ts";
import type { NonceManager } from "./nonces.ts";
import type { ReceiptBatcher } from "./receipts.ts";

/** Without a receipt after this long the same bytes are broadcast again (a node may have dropped them). */
export const REBROADCAST_MS = 10_000;

export interface MinterKey {
  rpc: RpcPool;
  publicClient: PublicClient;
  minter: PrivateKeyAccount;
  chainId: number;
  nonces: NonceManager;
  fees: FeeCache;
  receipts: ReceiptBatcher;
}

/**
 * Send a contract call from the minting key beside the mints in flight: the nonce comes from the
 * same manager (never from the node's pending count, which races the mints), the signed bytes are
 * known to the manager so a gap they leave is filled, and the receipt is looked up with the mints'.
 * For idempotent calls (a job that re-checks the chain before sending again, like seal).
 */
export async function sendFromMinter(
  k: MinterKey,
  req: { to: Hex; data: Hex },
  doing: string,
  purpose: string,
): Promise<TransactionReceipt> {
  let gas: bigint;
  try {
    gas = ((await k.publicClient.estimateGas({ account: k.minter, ...req })) * 12n) / 10n;
  } catch (e) {
    // The estimate is the simulation; the call is repeated only to report the revert decoded.
    await onChain(doing, () => k.publicClient.call({ account: k.minter, ...req }));
    throw chainError(e, doing);
  }
  const { fees } = await onChain(doing, () => k.fees.current());
  const nonce = await k.nonces.next(purpose);
  const raw = await k.minter.signTransaction({ chainId: k.chainId, type: "eip1559", ...req, gas, nonce, ...fees });
  const hash = keccak256(raw);
  // Until it is mined the manager keeps the bytes: a later mint stuck behind this nonce re-sends them.
  k.nonces.sent(nonce, raw, purpose);
  if ((await broadcast(k.rpc, raw, doing)) === "nonce-used") {
    k.nonces.settled(nonce);
    k.nonces.resync();
    throw new BlockhostError("E_CHAIN", `${doing}: nonce ${nonce} was already used; retrying with a fresh one`);
  }
  const started = Date.now();
  let lastSend = started;
  while (Date.now() - started < RECEIPT_TIMEOUT_MS) {
    const receipt = await k.receipts.next([hash]).catch(() => null);
    if (receipt) {
      k.nonces.settled(nonce);
      if (receipt.status !== "success") throw new BlockhostError("E_CHAIN", `${doing}: transaction ${hash} reverted`);
      return receipt;
    }
    if (Date.now() - lastSend >= REBROADCAST_MS) {
      lastSend = Date.now();
      await broadcast(k.rpc, raw, doing).catch(() => "sent");
      await k.nonces
        .repairGap(raw)
        .catch((e) => logEvent("engine.nonce_gap_repair_failed", { error: (e as Error).message }));
    }
  }
  throw new BlockhostError("E_TIMEOUT", `${doing}: ${hash} not mined after ${RECEIPT_TIMEOUT_MS / 1000} s`);
}

/** The engine's minting key and what it sends with. */
export function minterKey(ctx: EngineContext): MinterKey {
  return {
    rpc: ctx.rpc,
    publicClient: ctx.access.publicClient,
    minter: ctx.minter,
    chainId: ctx.settings.chainId,
    nonces: ctx.nonces,
    fees: ctx.fees,
    receipts: ctx.receipts,
  };
}
