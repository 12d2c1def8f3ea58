// Fund-manager transactions: signed, recorded in SQLite, then broadcast; after a crash each is settled from the chain, never re-planned blind.
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { ChainAccess } from "../../chain/client.ts";
import { onChain } from "../../chain/errors.ts";
import { broadcastSigned, sendRecordedTx, settleRecorded } from "../../chain/tx.ts";
import { logEvent } from "../../core/log.ts";
import { pendingTransfers, recordTransfer, setTransferState, type TransferRow } from "../../core/state/funds.ts";

export interface TxMeta {
  cycle: string;
  step: string;
  token: string;
  to: Hex;
  amount: bigint;
}

/**
 * Sign `request` with `account` at a nonce reserved in the shared ledger, record it (hash and raw
 * bytes, in the ledger and in the transfer record, in one transaction) before broadcasting, then
 * wait for its receipt. A revert marks it reverted and throws; nothing is ever sent without a record.
 */
export async function sendRecorded(
  db: Database,
  access: ChainAccess,
  account: PrivateKeyAccount,
  request: { to: Hex; data?: Hex; value?: bigint },
  meta: TxMeta,
): Promise<Hex> {
  const doing = `${meta.step} ${meta.token} to ${meta.to}`;
  const tx = await sendRecordedTx(access, account, { db, chainId: access.chain.id }, request, {
    purpose: `funds:${meta.step}`,
    doing,
    alsoRecord: (t) =>
      recordTransfer(db, {
        cycle: meta.cycle,
        step: meta.step,
        token: meta.token,
        from_address: account.address,
        to_address: meta.to,
        amount: meta.amount.toString(),
        nonce: t.nonce,
        tx_hash: t.hash,
        raw_tx: t.raw,
      }),
  });
  await settle(db, access, tx.hash, doing);
  return tx.hash;
}

async function settle(db: Database, access: ChainAccess, hash: Hex, doing: string): Promise<void> {
  await settleRecorded(access, { db, chainId: access.chain.id }, hash, doing, () =>
    setTransferState(db, hash, "reverted"),
  );
  setTransferState(db, hash, "done");
}

/**
 * Settle transfers a previous run signed but did not see mined: mined → done (or reverted);
 * its nonce used by another transaction → dropped; otherwise broadcast the same bytes again and
 * wait. Runs before any new plan, so balances are read only once nothing is in flight.
 */
export async function settlePending(db: Database, access: ChainAccess): Promise<TransferRow[]> {
  const rows = pendingTransfers(db);
  for (const row of rows) {
    const doing = `settle ${row.step} ${row.tx_hash}`;
    const receipt = await access.publicClient.getTransactionReceipt({ hash: row.tx_hash }).catch(() => null);
    if (receipt) {
      setTransferState(db, row.tx_hash, receipt.status === "success" ? "done" : "reverted");
      logEvent("funds.settled", {
        tx: row.tx_hash,
        step: row.step,
        state: receipt.status === "success" ? "done" : "reverted",
      });
      continue;
    }
    const used = await onChain(doing, () =>
      access.publicClient.getTransactionCount({ address: row.from_address, blockTag: "latest" }),
    );
    if (used > row.nonce) {
      setTransferState(db, row.tx_hash, "dropped");
      logEvent("funds.settled", { tx: row.tx_hash, step: row.step, state: "dropped" });
      continue;
    }
    await broadcastSigned(access, row.raw_tx, doing);
    await settle(db, access, row.tx_hash, doing);
    logEvent("funds.settled", { tx: row.tx_hash, step: row.step, state: "done", rebroadcast: true });
  }
  return rows;
}
