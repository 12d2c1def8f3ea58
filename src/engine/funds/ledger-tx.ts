// Fund-manager transactions: signed, recorded in SQLite, then broadcast; after a crash each is settled from the chain, never re-planned blind.
import type { Database } from "bun:sqlite";
import { keccak256, type Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { walletClientFor, type ChainAccess } from "../../chain/client.ts";
import { chainError, onChain } from "../../chain/errors.ts";
import { RECEIPT_TIMEOUT_MS } from "../../chain/tx.ts";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { pendingTransfers, recordTransfer, setTransferState, type TransferRow } from "../../core/state/funds.ts";
import type { NonceManager } from "../nonces.ts";

export interface TxMeta {
  cycle: string;
  step: string;
  token: string;
  to: Hex;
  amount: bigint;
}

const isAlreadyKnown = (e: unknown) =>
  /already known|already imported|nonce too low|known transaction/i.test(String((e as Error)?.message ?? e));

/**
 * Sign `request` with `account`, record it (hash and raw bytes) before broadcasting, then wait
 * for its receipt. A revert marks it reverted and throws; nothing is ever sent without a record.
 */
export async function sendRecorded(
  db: Database,
  access: ChainAccess,
  account: PrivateKeyAccount,
  request: { to: Hex; data?: Hex; value?: bigint },
  meta: TxMeta,
  nonces?: NonceManager,
): Promise<Hex> {
  const doing = `${meta.step} ${meta.token} to ${meta.to}`;
  const wallet = walletClientFor(access, account);
  // The engine's minting key sends mints concurrently: its nonce comes from the engine's manager, not the node.
  const managed = nonces?.owns(account.address) ? nonces : undefined;
  const raw = await onChain(doing, async () => {
    const prepared = await wallet.prepareTransactionRequest({
      account,
      chain: access.chain,
      to: request.to,
      data: request.data,
      value: request.value,
      ...(managed ? { nonce: await managed.next() } : {}),
    });
    return { raw: await account.signTransaction(prepared as never), nonce: prepared.nonce as number };
  });
  managed?.sent(raw.nonce, raw.raw);
  const hash = keccak256(raw.raw);
  recordTransfer(db, {
    cycle: meta.cycle,
    step: meta.step,
    token: meta.token,
    from_address: account.address,
    to_address: meta.to,
    amount: meta.amount.toString(),
    nonce: raw.nonce,
    tx_hash: hash,
    raw_tx: raw.raw,
  });
  await broadcast(access, raw.raw, doing);
  await settle(db, access, hash, doing);
  managed?.settled(raw.nonce);
  return hash;
}

async function broadcast(access: ChainAccess, raw: Hex, doing: string): Promise<void> {
  try {
    await access.publicClient.sendRawTransaction({ serializedTransaction: raw });
  } catch (e) {
    if (!isAlreadyKnown(e)) throw chainError(e, doing);
  }
}

async function settle(db: Database, access: ChainAccess, hash: Hex, doing: string): Promise<void> {
  const receipt = await onChain(doing, () =>
    access.publicClient.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS }),
  );
  if (receipt.status !== "success") {
    setTransferState(db, hash, "reverted");
    throw new BlockhostError("E_CHAIN", `${doing}: transaction ${hash} reverted`);
  }
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
    await broadcast(access, row.raw_tx, doing);
    await settle(db, access, row.tx_hash, doing);
    logEvent("funds.settled", { tx: row.tx_hash, step: row.step, state: "done", rebroadcast: true });
  }
  return rows;
}
