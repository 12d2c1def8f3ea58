/**
 * Send a transaction at most once per purpose, across crashes and retries: the signed bytes are
 * recorded in the nonce ledger (under `purpose`) before they are broadcast; a later attempt finds
 * that record, asks the chain for its receipt, and re-broadcasts the same bytes while their nonce is
 * still open. A second, different transaction is made only once the recorded one can no longer land.
 */
import type { Account, Hex, TransactionReceipt } from "viem";
import { liveTxFor, setTxState } from "../core/state/nonces.ts";
import type { ChainAccess } from "./client.ts";
import { onChain } from "./errors.ts";
import { broadcastSigned, type NonceLedger, sendRecordedTx, settleRecorded, type TxRequest } from "./tx.ts";

export interface SendOnceHooks {
  /** After the signed bytes are recorded, before they are broadcast (crash tests). */
  recorded?: () => void;
  /** After the broadcast (or the re-broadcast), before the receipt (crash tests). */
  sent?: () => void;
}

/** Send `req` signed by `account` once for `purpose` (unique to this transaction); returns its receipt. */
export async function sendOnce(
  access: ChainAccess,
  ledger: NonceLedger,
  purpose: string,
  account: Account,
  req: TxRequest,
  doing: string,
  hooks: SendOnceHooks = {},
): Promise<TransactionReceipt> {
  const intent = liveTxFor(ledger.db, purpose);
  if (intent) {
    const hash = intent.tx_hash as Hex;
    if (intent.state === "done") return await settleRecorded(access, ledger, hash, doing);
    const mined = await onChain(doing, () =>
      access.publicClient.getTransactionCount({ address: account.address, blockTag: "latest" }),
    );
    if (mined <= intent.nonce) await broadcastSigned(access, intent.raw_tx as Hex, doing);
    // Mined, or still pending at its nonce: its receipt settles it.
    if (mined <= intent.nonce || (await receiptKnown(access, hash, doing))) {
      hooks.sent?.();
      return await settleRecorded(access, ledger, hash, doing);
    }
    // Its nonce was used by another transaction: the recorded one can never be mined.
    setTxState(ledger.db, hash, "dropped");
  }
  const tx = await sendRecordedTx(access, account, ledger, req, { purpose, doing, recorded: hooks.recorded });
  hooks.sent?.();
  return await settleRecorded(access, ledger, tx.hash, doing);
}

async function receiptKnown(access: ChainAccess, hash: Hex, doing: string): Promise<boolean> {
  return await onChain(doing, () =>
    access.publicClient.getTransactionReceipt({ hash }).then(
      () => true,
      (e: Error) => (e.name === "TransactionReceiptNotFoundError" ? false : Promise.reject(e)),
    ),
  );
}
