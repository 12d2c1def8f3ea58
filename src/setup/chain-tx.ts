/**
 * Send a setup transaction at most once across crashes: the signed transaction (sender, nonce,
 * hash, raw bytes) is recorded before it is sent; after an interrupted attempt the chain is
 * asked for that hash's receipt, and the same signed bytes are re-broadcast while its nonce is
 * still open. A second, different transaction is only made once the recorded one can no longer land.
 */
import { keccak256, type Hex, type TransactionReceipt } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { walletClientFor } from "../chain/client.ts";
import { onChain } from "../chain/errors.ts";
import { RECEIPT_TIMEOUT_MS } from "../chain/tx.ts";
import { BlockhostError } from "../core/errors.ts";
import { dropIntent, getIntent, recordIntent } from "../core/state/setup.ts";
import { crashPoint, type SetupContext } from "./context.ts";

export interface TxRequest {
  to?: Hex;
  data: Hex;
}

async function receiptOf(ctx: SetupContext, hash: Hex): Promise<TransactionReceipt | undefined> {
  try {
    return await ctx.access.publicClient.getTransactionReceipt({ hash });
  } catch (e) {
    if ((e as Error).name === "TransactionReceiptNotFoundError") return undefined;
    throw e;
  }
}

async function broadcast(ctx: SetupContext, raw: Hex): Promise<void> {
  try {
    await ctx.access.publicClient.sendRawTransaction({ serializedTransaction: raw });
  } catch (e) {
    // The node already has it (a re-broadcast after a crash): waiting for the receipt is enough.
    if (!/already known|already imported|known transaction|nonce too low/i.test((e as Error).message)) throw e;
  }
}

async function settle(ctx: SetupContext, key: string, hash: Hex, doing: string): Promise<TransactionReceipt> {
  // Ask once before polling: on an instantly mining node the receipt is already there.
  const receipt =
    (await onChain(doing, () => receiptOf(ctx, hash))) ??
    (await onChain(doing, () =>
      ctx.access.publicClient.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS }),
    ));
  if (receipt.status !== "success") {
    dropIntent(ctx.db, key); // a reverted transaction is final: a retry may send a new one
    throw new BlockhostError("E_CHAIN", `${doing}: transaction ${hash} reverted`);
  }
  return receipt;
}

/** Send `req` signed by `account` once for `key` (a name unique to this transaction's purpose); returns its receipt. */
export async function sendOnce(
  ctx: SetupContext,
  key: string,
  account: PrivateKeyAccount,
  req: TxRequest,
  doing: string,
): Promise<TransactionReceipt> {
  const read = ctx.access.publicClient;
  const intent = getIntent(ctx.db, key);
  if (intent) {
    const hash = intent.tx_hash as Hex;
    const receipt = await onChain(doing, () => receiptOf(ctx, hash));
    if (receipt) return await settle(ctx, key, hash, doing);
    const mined = await onChain(doing, () =>
      read.getTransactionCount({ address: account.address, blockTag: "latest" }),
    );
    if (mined <= intent.nonce) {
      await onChain(doing, () => broadcast(ctx, intent.raw_tx as Hex));
      crashPoint(`${key}:sent`);
      return await settle(ctx, key, hash, doing);
    }
    // Its nonce was used by another transaction: the recorded one can never be mined.
    dropIntent(ctx.db, key);
  }
  const wallet = walletClientFor(ctx.access, account);
  const raw = await onChain(doing, async () => {
    const nonce = await read.getTransactionCount({ address: account.address, blockTag: "pending" });
    const prepared = await wallet.prepareTransactionRequest({
      account,
      chain: ctx.access.chain,
      to: req.to,
      data: req.data,
      nonce,
    });
    return { nonce, raw: await account.signTransaction(prepared as Parameters<typeof account.signTransaction>[0]) };
  });
  const hash = keccak256(raw.raw);
  recordIntent(ctx.db, { key, sender: account.address, nonce: raw.nonce, tx_hash: hash, raw_tx: raw.raw });
  crashPoint(`${key}:recorded`);
  await onChain(doing, () => broadcast(ctx, raw.raw));
  crashPoint(`${key}:sent`);
  return await settle(ctx, key, hash, doing);
}
