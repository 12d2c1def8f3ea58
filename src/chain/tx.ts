/** Send transactions and wait for their receipts, with one-line errors; nonces from the shared ledger when one is given. */
import type { Database } from "bun:sqlite";
import {
  encodeFunctionData,
  keccak256,
  type Abi,
  type Account,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  type LocalAccount,
  type TransactionReceipt,
} from "viem";
import { BlockhostError } from "../core/errors.ts";
import { recordSigned, releaseNonce, reserveNonce, setTxState } from "../core/state/nonces.ts";
import { walletClientFor, type ChainAccess } from "./client.ts";
import { onChain } from "./errors.ts";

/** How long a command waits for its transaction to be mined before giving up (it may still land). */
export const RECEIPT_TIMEOUT_MS = 180_000;

export interface WriteRequest<abi extends Abi, fn extends ContractFunctionName<abi, "nonpayable" | "payable">> {
  address: Hex;
  abi: abi;
  functionName: fn;
  args: ContractFunctionArgs<abi, "nonpayable" | "payable", fn>;
}

/** The database whose nonce ledger every process signing with a key shares, and the chain the nonces count on. */
export interface NonceLedger {
  db: Database;
  chainId: number;
}

export interface TxRequest {
  to?: Hex;
  data?: Hex;
  value?: bigint;
}

/** A transaction signed at a reserved nonce and recorded in the ledger. */
export interface RecordedTx {
  nonce: number;
  hash: Hex;
  raw: Hex;
}

const KNOWN = /already known|known transaction|already imported|already exists/i;
const NONCE_USED = /nonce too low|replacement transaction underpriced|nonce has already been used/i;

/**
 * What a node's refusal of `eth_sendRawTransaction` means: it already has these bytes ("known"),
 * the nonce is used (by these bytes or another transaction), or something else (null).
 */
export function sendRefusal(e: unknown): "known" | "nonce-used" | null {
  const text = `${(e as { details?: string })?.details ?? ""} ${(e as Error)?.message ?? String(e)}`;
  if (KNOWN.test(text)) return "known";
  if (NONCE_USED.test(text)) return "nonce-used";
  return null;
}

async function receiptIfMined(access: ChainAccess, hash: Hex): Promise<TransactionReceipt | undefined> {
  try {
    return await access.publicClient.getTransactionReceipt({ hash });
  } catch (e) {
    if ((e as Error).name === "TransactionReceiptNotFoundError") return undefined;
    throw e;
  }
}

/** Broadcast signed bytes; a node that already has them is success, a used nonce is reported, not thrown. */
export async function broadcastSigned(access: ChainAccess, raw: Hex, doing: string): Promise<"sent" | "nonce-used"> {
  try {
    await access.publicClient.sendRawTransaction({ serializedTransaction: raw });
    return "sent";
  } catch (e) {
    const refusal = sendRefusal(e);
    if (refusal === "known") return "sent";
    if (refusal === "nonce-used") return "nonce-used";
    return await onChain(doing, () => Promise.reject(e));
  }
}

function localAccount(account: Account, doing: string): LocalAccount {
  if (account.type !== "local")
    throw new BlockhostError("E_INTERNAL", `${doing}: the ledger signs locally; a JSON-RPC account cannot`);
  return account;
}

/**
 * Reserve the sender's next nonce in the shared ledger (never the node's pending count alone,
 * which races the engine's mints in flight), sign `req` at it, record the signed bytes, then
 * broadcast. `recorded` runs between recording and sending. Nothing is sent without a record.
 */
export async function sendRecordedTx(
  access: ChainAccess,
  account: Account,
  ledger: NonceLedger,
  req: TxRequest,
  o: {
    purpose: string;
    doing: string;
    /** Runs inside the transaction that records the bytes (a caller's own record of the same send). */
    alsoRecord?: (tx: RecordedTx) => void;
    /** Runs once the record is committed, before the broadcast. */
    recorded?: (tx: RecordedTx) => void;
  },
): Promise<RecordedTx> {
  const signer = localAccount(account, o.doing);
  const wallet = walletClientFor(access, signer);
  const prepared = await onChain(o.doing, () =>
    wallet.prepareTransactionRequest({
      account: signer,
      chain: access.chain,
      ...req,
      parameters: ["chainId", "fees", "gas", "type"],
    }),
  );
  const floor = await onChain(o.doing, () =>
    access.publicClient.getTransactionCount({ address: signer.address, blockTag: "pending" }),
  );
  const key = { chainId: ledger.chainId, sender: signer.address, owner: process.pid };
  const nonce = reserveNonce(ledger.db, { ...key, floor, purpose: o.purpose });
  let raw: Hex;
  try {
    raw = await signer.signTransaction({ ...(prepared as Parameters<LocalAccount["signTransaction"]>[0]), nonce });
  } catch (e) {
    releaseNonce(ledger.db, { ...key, nonce });
    throw new BlockhostError("E_CRYPTO", `${o.doing}: could not sign the transaction`, {}, { cause: e });
  }
  const tx = { nonce, hash: keccak256(raw), raw };
  const kept = ledger.db.transaction(() => {
    if (!recordSigned(ledger.db, { ...key, nonce, hash: tx.hash, raw })) return false;
    o.alsoRecord?.(tx);
    return true;
  })();
  if (!kept)
    throw new BlockhostError("E_CHAIN", `${o.doing}: nonce ${nonce} was given to another sender meanwhile; try again`);
  o.recorded?.(tx);
  if ((await broadcastSigned(access, raw, o.doing)) === "nonce-used" && !(await receiptIfMined(access, tx.hash))) {
    setTxState(ledger.db, tx.hash, "dropped");
    throw new BlockhostError("E_CHAIN", `${o.doing}: nonce ${nonce} is already used on the chain; try again`);
  }
  return tx;
}

/**
 * Wait for a recorded transaction's receipt (asked once first: on an instantly mining node it is
 * already there) and mark it done, or reverted (then an E_CHAIN error naming `doing`).
 */
export async function settleRecorded(
  access: ChainAccess,
  ledger: NonceLedger,
  hash: Hex,
  doing: string,
  onReverted?: () => void,
): Promise<TransactionReceipt> {
  const receipt =
    (await onChain(doing, () => receiptIfMined(access, hash))) ??
    (await onChain(doing, () => access.publicClient.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS })));
  setTxState(ledger.db, hash, receipt.status === "success" ? "done" : "reverted");
  if (receipt.status !== "success") onReverted?.();
  if (receipt.status !== "success") throw new BlockhostError("E_CHAIN", `${doing}: transaction ${hash} reverted`);
  return receipt;
}

/** Wait for a transaction's receipt; a mined revert is an E_CHAIN error naming `doing`. */
export async function waitForSuccess(access: ChainAccess, hash: Hex, doing: string): Promise<TransactionReceipt> {
  const receipt = await onChain(doing, () =>
    access.publicClient.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS }),
  );
  if (receipt.status !== "success") throw new BlockhostError("E_CHAIN", `${doing}: transaction ${hash} reverted`);
  return receipt;
}

/**
 * Simulate a contract write (so a revert is reported with its decoded custom error and no gas
 * is spent), send it signed by `account`, and wait for the receipt. With a `ledger` the nonce is
 * reserved there and the signed bytes recorded before sending (a key other processes also sign with).
 */
export async function writeAndWait<
  const abi extends Abi,
  fn extends ContractFunctionName<abi, "nonpayable" | "payable">,
>(
  access: ChainAccess,
  account: Account,
  req: WriteRequest<abi, fn>,
  doing: string,
  ledger?: NonceLedger,
): Promise<{ hash: Hex; receipt: TransactionReceipt; result: unknown }> {
  // The generic request cannot be narrowed through viem's overloads; the call sites are typed by WriteRequest.
  const sim = await onChain(
    doing,
    async () =>
      (await access.publicClient.simulateContract({ ...req, account } as never)) as unknown as {
        request: never;
        result: unknown;
      },
  );
  if (ledger) {
    const data = encodeFunctionData({ abi: req.abi, functionName: req.functionName, args: req.args } as never);
    const tx = await sendRecordedTx(access, account, ledger, { to: req.address, data }, { purpose: doing, doing });
    return { hash: tx.hash, receipt: await settleRecorded(access, ledger, tx.hash, doing), result: sim.result };
  }
  const hash = await onChain(doing, () => walletClientFor(access, account).writeContract(sim.request));
  return { hash, receipt: await waitForSuccess(access, hash, doing), result: sim.result };
}
