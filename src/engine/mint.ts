/** The engine's credential mint: an intent (nonce, hashes, signed bytes) recorded before sending, re-broadcast, recovered after a crash. */
import {
  encodeFunctionData,
  formatTransactionReceipt,
  hexToBigInt,
  keccak256,
  padHex,
  toEventSelector,
  type Hex,
  type Log,
  type PublicClient,
  type TransactionReceipt,
} from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { chainError, onChain } from "../chain/errors.ts";
import { tokenIdFromReceipt } from "../chain/mint.ts";
import type { RpcPool } from "../chain/rpc-pool.ts";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { decryptWithSignature, utf8 } from "../crypto/symmetric.ts";
import { type RangeCap, scanLogs } from "./log-reader.ts";
import { connectionDetails } from "./payload.ts";
import type { FeeCache, Fees } from "./fees.ts";
import { broadcast } from "./broadcast.ts";
import { REBROADCAST_MS } from "./minter-tx.ts";
import type { NonceManager } from "./nonces.ts";
import type { ReceiptBatcher } from "./receipts.ts";

const MINTED_TOPIC = toEventSelector("CredentialMinted(uint256,address)");
/** How long a mint waits for its receipt in one attempt (the job retries, recovering by hash and nonce). */
const RECEIPT_WAIT_MS = 180_000;
/** One history search pass per job attempt; the search resumes where it stopped. */
const SEARCH_BUDGET_MS = 15_000;

/** A mint found on the chain: its token and the block it is in (watched until deep enough, see mint-watch.ts). */
export interface Minted {
  tokenId: bigint;
  block: bigint | null;
  blockHash: Hex | null;
}

/** A mint in flight, as recorded (in the VM's `extra`) before its transaction is sent. */
export interface MintIntent {
  fromBlock: bigint;
  nonce: number | null;
  /** Every signed version (a re-priced replacement adds one), newest last. */
  hashes: Hex[];
  raw: Hex | null;
  /** The interrupted-mint search has covered blocks up to here. */
  searchedTo: bigint | null;
}

export interface Minting {
  rpc: RpcPool;
  cap: RangeCap;
  publicClient: PublicClient;
  minter: PrivateKeyAccount;
  nft: Hex;
  chainId: number;
  pollMs: number;
  /** Without a receipt after this long the transaction is replaced at the same nonce with higher fees. */
  repriceMs: number;
  recipient: Hex;
  signature: Hex | null;
  hostname: string;
  username: string;
  /** Looks up the receipts of all mints in flight together. */
  receipts: ReceiptBatcher;
  /** Assigns this key's nonces locally (mints in flight do not wait for each other). */
  nonces: NonceManager;
  /** Fees and a recent head, shared by the mints in flight. */
  fees: FeeCache;
  /** Gas limits of earlier mints by calldata length (shared by the mints in flight, see mintGas). */
  gasBySize: Map<number, bigint>;
  /** Whether a token id is already recorded for a VM (never taken over; asked only during recovery). */
  isRecorded(tokenId: number): boolean;
  seal(): Hex;
  /** Persist the intent (null: no mint in flight). Runs before every send. */
  save(intent: MintIntent | null): void;
}

export function intentFromExtra(extra: Record<string, unknown>): MintIntent | null {
  if (typeof extra.mint_from_block !== "string") return null;
  return {
    fromBlock: BigInt(extra.mint_from_block),
    nonce: typeof extra.mint_nonce === "number" ? extra.mint_nonce : null,
    hashes: Array.isArray(extra.mint_txs) ? (extra.mint_txs as Hex[]) : [],
    raw: typeof extra.mint_raw === "string" ? (extra.mint_raw as Hex) : null,
    searchedTo: typeof extra.mint_searched_to === "string" ? BigInt(extra.mint_searched_to) : null,
  };
}

export function intentToExtra(extra: Record<string, unknown>, i: MintIntent | null): Record<string, unknown> {
  const { mint_from_block, mint_nonce, mint_txs, mint_raw, mint_searched_to, ...rest } = extra;
  if (!i) return rest;
  return {
    ...rest,
    mint_from_block: String(i.fromBlock),
    ...(i.nonce !== null ? { mint_nonce: i.nonce } : {}),
    ...(i.hashes.length ? { mint_txs: i.hashes } : {}),
    ...(i.raw ? { mint_raw: i.raw } : {}),
    ...(i.searchedTo !== null ? { mint_searched_to: String(i.searchedTo) } : {}),
  };
}

/** A send refused because its nonce is used: the intent stays, the next attempt recovers by receipt, nonce and logs. */
async function settleNonceUsed(m: Minting, intent: MintIntent): Promise<TransactionReceipt> {
  m.nonces.resync();
  // Usually these very bytes were mined (a re-broadcast after a lost answer); a lagging node may not show it at once.
  for (let i = 0; i < 10; i++) {
    const receipt = await receiptOf(m, intent.hashes).catch(() => null);
    if (receipt) return receipt;
    await Bun.sleep(m.pollMs);
  }
  throw new BlockhostError(
    "E_CHAIN",
    `mint nonce ${intent.nonce} is already used (a stale pending count?); looking for the mint on the next attempt`,
  );
}

async function receiptOf(m: Minting, hashes: Hex[]): Promise<TransactionReceipt | null> {
  if (hashes.length === 0) return null;
  const { answers } = await m.rpc.batch(hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })));
  const found = answers.find((a) => a.result);
  return found ? (formatTransactionReceipt(found.result as never) as TransactionReceipt) : null;
}

async function fees(m: Minting, bump: bigint): Promise<Fees> {
  return (await onChain("estimate fees", () => m.fees.current(bump))).fees;
}

/** Sign the mint at `nonce` locally (no network: nothing can fail between taking a nonce and recording it). */
async function signMint(m: Minting, payload: Hex, nonce: number, gas: bigint, f: Fees): Promise<Hex> {
  const data = encodeFunctionData({ abi: accessCredentialNftAbi, functionName: "mint", args: [m.recipient, payload] });
  return await m.minter.signTransaction({ chainId: m.chainId, type: "eip1559", to: m.nft, data, gas, nonce, ...f });
}

/**
 * Wait for any of the intent's transactions to be mined; re-broadcast while waiting and replace a
 * stuck one at the same nonce with higher fees (recorded before it is sent).
 */
async function awaitMint(
  m: Minting,
  intent: MintIntent,
  payload: Hex | null,
  gas: bigint | null,
): Promise<TransactionReceipt> {
  const started = Date.now();
  let lastSend = started;
  let lastPrice = started;
  let bump = 100n;
  while (Date.now() - started < RECEIPT_WAIT_MS) {
    const receipt = await m.receipts.next(intent.hashes).catch(() => null);
    if (receipt) return receipt;
    if (Date.now() - lastSend < REBROADCAST_MS || !intent.raw) continue;
    lastSend = Date.now();
    if (payload && gas && intent.nonce !== null && Date.now() - lastPrice >= m.repriceMs) {
      bump += 30n;
      lastPrice = Date.now();
      const raw = await signMint(m, payload, intent.nonce, gas, await fees(m, bump));
      intent.hashes.push(keccak256(raw));
      intent.raw = raw;
      m.nonces.sent(intent.nonce, raw, "mint", () => m.save(intent));
      logEvent("engine.mint_repriced", { nonce: intent.nonce, tx: keccak256(raw), fee_percent: String(bump) });
    }
    logEvent("engine.mint_rebroadcast", { nonce: intent.nonce, tx: intent.hashes.at(-1) });
    await broadcast(m.rpc, intent.raw, "send the mint").catch((e) =>
      logEvent("engine.mint_rebroadcast_failed", { error: (e as Error).message }),
    );
    // A gap below this nonce (a mint whose job backs off, a send of serve or finalize that died) holds every later one.
    await m.nonces
      .repairGap(intent.raw)
      .catch((e) => logEvent("engine.nonce_gap_repair_failed", { error: (e as Error).message }));
  }
  throw new BlockhostError(
    "E_TIMEOUT",
    `mint ${intent.hashes.at(-1)} not mined after ${RECEIPT_WAIT_MS / 1000} s; it is recovered by hash and nonce on the next attempt`,
  );
}

/**
 * The mint's gas limit (estimate + 20 %), simulated first so that a revert spends no gas. The first
 * mint of each payload size is estimated; later ones of that size reuse its limit and are only
 * simulated with eth_call (one execution, where an estimate searches over several: a provider
 * bills it as a fraction, and the node's CPU goes to mining). What varies between mints of one size
 * (a recipient's first token writes a fresh balance slot: ~17,000 gas) is well inside the 20 %.
 * When the call fails it is repeated through `onChain`, so a revert is reported with its decoded error.
 */
async function mintGas(m: Minting, payload: Hex): Promise<bigint> {
  const data = encodeFunctionData({ abi: accessCredentialNftAbi, functionName: "mint", args: [m.recipient, payload] });
  const size = data.length;
  try {
    const known = m.gasBySize.get(size);
    if (known !== undefined) {
      await m.publicClient.call({ account: m.minter, to: m.nft, data });
      return known;
    }
    const gas = ((await m.publicClient.estimateGas({ account: m.minter, to: m.nft, data })) * 12n) / 10n;
    m.gasBySize.set(size, gas);
    return gas;
  } catch (e) {
    await onChain("mint", () => m.publicClient.call({ account: m.minter, to: m.nft, data }));
    throw chainError(e, "estimate mint gas");
  }
}

/** Mint afresh: record the intent with its nonce and signed bytes, then send and wait. */
async function mintNew(m: Minting): Promise<Minted> {
  const payload = m.seal();
  const gas = await mintGas(m, payload);
  // The head comes with the fees (read at most once a poll interval): an older head only widens a later search.
  const { head, fees: f } = await onChain("estimate fees", () => m.fees.current());
  const nonce = await m.nonces.next();
  const raw = await signMint(m, payload, nonce, gas, f);
  const intent: MintIntent = { fromBlock: head, nonce, hashes: [keccak256(raw)], raw, searchedTo: null };
  // The intent (VM recovery) and the ledger's copy (gap repair) are written together, before any send.
  m.nonces.sent(nonce, raw, "mint", () => m.save(intent));
  let sent: "sent" | "nonce-used";
  try {
    sent = await broadcast(m.rpc, raw, "send the mint");
  } catch (e) {
    // Every re-broadcast failed at the transport, yet the node may have taken it (the answer was lost).
    await Bun.sleep(m.pollMs);
    const receipt = await receiptOf(m, intent.hashes).catch(() => null);
    if (!receipt) throw e;
    logEvent("engine.mint_found_by_hash", { tx: intent.hashes[0] });
    return await finish(m, intent, receipt);
  }
  if (sent === "nonce-used") return await finish(m, intent, await settleNonceUsed(m, intent));
  return await finish(m, intent, await awaitMint(m, intent, payload, gas));
}

async function finish(m: Minting, intent: MintIntent, receipt: TransactionReceipt): Promise<Minted> {
  m.nonces.settled(intent.nonce);
  if (receipt.status !== "success") {
    // Perhaps out of gas at a reused limit: the next mint of every size is estimated afresh.
    m.gasBySize.clear();
    m.save(null);
    throw new BlockhostError("E_CHAIN", `mint: transaction ${receipt.transactionHash} reverted`);
  }
  return mintedBy(m, receipt);
}

const mintedBy = (m: Minting, receipt: TransactionReceipt): Minted => ({
  tokenId: tokenIdFromReceipt(receipt, m.nft),
  block: receipt.blockNumber,
  blockHash: receipt.blockHash,
});

/** Does this CredentialMinted log belong to the interrupted mint (by transaction, or by its sealed payload)? */
async function isOurs(m: Minting, intent: MintIntent, log: Log): Promise<bigint | null> {
  const tokenId = hexToBigInt(log.topics[1]!);
  if (m.isRecorded(Number(tokenId))) return null;
  if (intent.hashes.includes(log.transactionHash!)) return tokenId;
  if (!m.signature) return null;
  const data = await onChain("read credential", () =>
    m.publicClient.readContract({
      address: m.nft,
      abi: accessCredentialNftAbi,
      functionName: "getUserEncrypted",
      args: [tokenId],
    }),
  );
  try {
    return utf8(decryptWithSignature(m.signature, data)) === connectionDetails(m.hostname, m.username) ? tokenId : null;
  } catch {
    return null; // another credential of the same buyer (another VM)
  }
}

/**
 * After an interrupted attempt: the mint is found (by receipt, or by its CredentialMinted log in
 * the blocks between the intent and the block where its nonce was used), still pending (its
 * bytes are re-broadcast and awaited), or proven absent (its nonce went to another transaction,
 * or no log) so it can be minted anew. The log search is chunked within the range cap and
 * resumes across attempts.
 */
async function recover(m: Minting, intent: MintIntent): Promise<Minted | "absent"> {
  const receipt = await receiptOf(m, intent.hashes);
  if (receipt) {
    m.nonces.settled(intent.nonce);
    return receipt.status === "success" ? mintedBy(m, receipt) : "absent";
  }
  // Head and nonce from ONE node: the nonce was used at or before that head.
  const { answers } = await m.rpc.batch([
    { method: "eth_blockNumber", params: [] },
    { method: "eth_getTransactionCount", params: [m.minter.address, "latest"] },
  ]);
  if (answers.some((a) => a.error))
    throw new BlockhostError("E_CHAIN", "read head and nonce: the provider answered with an error");
  const head = hexToBigInt(answers[0]!.result as Hex);
  const used = Number(hexToBigInt(answers[1]!.result as Hex));
  if (intent.nonce !== null && used <= intent.nonce && intent.raw) {
    m.nonces.sent(intent.nonce, intent.raw);
    if ((await broadcast(m.rpc, intent.raw, "send the mint")) === "nonce-used")
      return await finish(m, intent, await settleNonceUsed(m, intent));
    return await finish(m, intent, await awaitMint(m, intent, null, null));
  }
  const filter = {
    address: m.nft,
    topics: [MINTED_TOPIC, null, padHex(m.recipient, { size: 32 })] as Array<Hex | null>,
  };
  const from = intent.searchedTo !== null ? intent.searchedTo + 1n : intent.fromBlock;
  const candidates: Log[] = [];
  const scan = await scanLogs(
    m.rpc,
    m.cap,
    filter,
    { from, to: head, deadline: Date.now() + SEARCH_BUDGET_MS },
    (logs) => {
      candidates.push(...logs);
      return false;
    },
  );
  for (const log of candidates) {
    const id = await isOurs(m, intent, log);
    if (id !== null) return { tokenId: id, block: log.blockNumber, blockHash: log.blockHash };
  }
  if (!scan.done) {
    m.save({ ...intent, searchedTo: scan.next - 1n });
    throw new BlockhostError(
      "E_CHAIN",
      `looking for an interrupted mint: searched blocks up to ${scan.next - 1n} of ${head}; continuing`,
    );
  }
  return "absent";
}

/**
 * Mint unless the chain already has it. A mint that was never attempted (no intent recorded) is
 * sent straight away; after an interrupted attempt it is recovered or proven absent first.
 */
export async function ensureMinted(m: Minting, intent: MintIntent | null): Promise<Minted & { minted: boolean }> {
  if (intent) {
    const r = await recover(m, intent);
    if (r !== "absent") return { ...r, minted: false };
    m.nonces.settled(intent.nonce);
    logEvent("engine.mint_absent", {
      recipient: m.recipient,
      from_block: String(intent.fromBlock),
      nonce: intent.nonce,
    });
  }
  return { ...(await mintNew(m)), minted: true };
}

/** The highest nonce of a mint still in flight (recorded, no token yet), or null. */
export function highestIntentNonce(
  vms: ReadonlyArray<{ nft_minted: boolean; extra: Record<string, unknown> }>,
): number | null {
  let top: number | null = null;
  for (const vm of vms) {
    const n = vm.nft_minted ? null : intentFromExtra(vm.extra)?.nonce;
    if (typeof n === "number" && (top === null || n > top)) top = n;
  }
  return top;
}
