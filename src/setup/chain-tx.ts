/**
 * Send a setup transaction at most once across crashes: the signed transaction (sender, nonce,
 * hash, raw bytes) is recorded in the nonce ledger before it is sent; after an interrupted attempt
 * the chain is asked for that hash's receipt, and the same signed bytes are re-broadcast while its
 * nonce is still open. A second, different transaction is only made once the recorded one can no longer land.
 */
import type { Hex, TransactionReceipt } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { onChain } from "../chain/errors.ts";
import { broadcastSigned, sendRecordedTx, settleRecorded, type NonceLedger, type TxRequest } from "../chain/tx.ts";
import { liveTxFor, setTxState } from "../core/state/nonces.ts";
import { crashPoint, type SetupContext } from "./context.ts";

export type { TxRequest };

/** Send `req` signed by `account` once for `key` (a name unique to this transaction's purpose); returns its receipt. */
export async function sendOnce(
  ctx: SetupContext,
  key: string,
  account: PrivateKeyAccount,
  req: TxRequest,
  doing: string,
): Promise<TransactionReceipt> {
  const ledger: NonceLedger = { db: ctx.db, chainId: ctx.access.chain.id };
  const purpose = `setup:${key}`;
  const intent = liveTxFor(ctx.db, purpose);
  if (intent) {
    const hash = intent.tx_hash as Hex;
    if (intent.state === "done") return await settleRecorded(ctx.access, ledger, hash, doing);
    const mined = await onChain(doing, () =>
      ctx.access.publicClient.getTransactionCount({ address: account.address, blockTag: "latest" }),
    );
    if (mined <= intent.nonce) await broadcastSigned(ctx.access, intent.raw_tx as Hex, doing);
    // Mined, or still pending at its nonce: its receipt settles it.
    if (mined <= intent.nonce || (await receiptKnown(ctx, hash, doing))) {
      crashPoint(`${key}:sent`);
      return await settleRecorded(ctx.access, ledger, hash, doing);
    }
    // Its nonce was used by another transaction: the recorded one can never be mined.
    setTxState(ctx.db, hash, "dropped");
  }
  const tx = await sendRecordedTx(ctx.access, account, ledger, req, {
    purpose,
    doing,
    recorded: () => crashPoint(`${key}:recorded`),
  });
  crashPoint(`${key}:sent`);
  return await settleRecorded(ctx.access, ledger, tx.hash, doing);
}

async function receiptKnown(ctx: SetupContext, hash: Hex, doing: string): Promise<boolean> {
  return await onChain(doing, () =>
    ctx.access.publicClient.getTransactionReceipt({ hash }).then(
      () => true,
      (e: Error) => (e.name === "TransactionReceiptNotFoundError" ? false : Promise.reject(e)),
    ),
  );
}
