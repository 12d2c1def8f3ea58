// Reads the confirmed blocks the log watcher has already passed, full transactions, one JSON-RPC batch per round.
import type { Database } from "bun:sqlite";
import { createPublicClient, fallback, http, type Hex, type PublicClient, type Transport } from "viem";
import { RPC_RETRIES, RPC_TIMEOUT_MS, rpcUrlsOf, type ChainAccess } from "../../chain/client.ts";
import type { Web3Config } from "../../core/config/index.ts";
import { logEvent } from "../../core/log.ts";
import {
  recordScanned,
  rewindScan,
  scanCursor,
  scannedBlocks,
  type ScannedBlock,
} from "../../core/state/admin-commands.ts";

/** Blocks fetched per batch (one HTTP request). */
export const SCAN_BATCH = 50;
/** On first start, look this many blocks back (older commands would be expired anyway on fast chains). */
export const SCAN_BACKFILL = 300;

export interface ScanTx {
  hash: Hex;
  from: Hex;
  to: Hex | null;
  input: Hex;
  blockNumber: bigint;
}

interface RpcBlock {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  transactions: Array<{ hash: Hex; from: Hex; to: Hex | null; input: Hex }>;
}

/**
 * A client whose HTTP transports batch: requests issued in the same tick go out as one JSON-RPC
 * batch. WebSocket URLs keep the engine's transport (requests are pipelined there anyway).
 */
export function batchingClient(web3: Web3Config, access: ChainAccess, batchSize = SCAN_BATCH + 1): PublicClient {
  const urls = rpcUrlsOf(web3).filter((u) => /^https?:/.test(u));
  if (urls.length === 0) return access.publicClient;
  const t = (u: string, retryCount: number) =>
    http(u, { batch: { batchSize, wait: 0 }, timeout: RPC_TIMEOUT_MS, retryCount, retryDelay: 250 });
  const transport: Transport =
    urls.length === 1
      ? t(urls[0]!, RPC_RETRIES)
      : fallback(
          urls.map((u) => t(u, 0)),
          { retryCount: RPC_RETRIES, retryDelay: 250 },
        );
  return createPublicClient({ chain: access.chain, transport, cacheTime: 0 }) as PublicClient;
}

const hex = (n: number) => `0x${n.toString(16)}` as Hex;

export class BlockScanner {
  constructor(
    private readonly db: Database,
    private readonly client: PublicClient,
    private readonly opts: { chainId: number; startBlock: number },
  ) {}

  private getBlocks(numbers: readonly number[], full: boolean): Promise<Array<RpcBlock | null>> {
    // Issued together, so the batching transport sends them as one request.
    return Promise.all(
      numbers.map(
        (n) =>
          this.client.request({
            method: "eth_getBlockByNumber",
            params: [hex(n), full],
          }) as unknown as Promise<RpcBlock | null>,
      ),
    );
  }

  /**
   * One round up to `confirmed` (the watcher's cursor): check the last scanned block is still on
   * the chain (else rewind to the fork, as the watcher does) and hand the next batch of blocks'
   * transactions to `handle`, in order. Returns whether more blocks remain.
   */
  async round(confirmed: number, handle: (txs: ScanTx[]) => Promise<void>): Promise<boolean> {
    const cur = scanCursor(this.db, this.opts.chainId);
    const from = cur ? cur.number + 1 : Math.max(this.opts.startBlock, confirmed - SCAN_BACKFILL);
    const to = Math.min(confirmed, from + SCAN_BATCH - 1);
    if (to < from && !cur) return false;
    const numbers = [
      ...(cur ? [cur.number] : []),
      ...Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i),
    ];
    if (numbers.length === 0) return false;
    const blocks = await this.getBlocks(numbers, true);
    if (cur) {
      const head = blocks.shift();
      if (head?.hash !== cur.hash) {
        await this.rewind(cur);
        return true;
      }
    }
    // Every block must extend the previous one; otherwise the chain moved under us: retry next round.
    let parent = cur?.hash;
    const seen: ScannedBlock[] = [];
    for (const b of blocks) {
      if (!b || (parent !== undefined && b.parentHash !== parent)) return false;
      parent = b.hash;
      seen.push({ number: Number(b.number), hash: b.hash });
    }
    const txs = blocks.flatMap((b) =>
      b!.transactions.map((t) => ({
        hash: t.hash,
        from: t.from,
        to: t.to,
        input: t.input,
        blockNumber: BigInt(b!.number),
      })),
    );
    await handle(txs);
    recordScanned(this.db, this.opts.chainId, seen);
    return to < confirmed;
  }

  /** Find the newest scanned block still on the chain (newest first, a batch at a time) and forget everything above it. */
  private async rewind(cur: ScannedBlock): Promise<void> {
    const stored = scannedBlocks(this.db, this.opts.chainId).filter((s) => s.number < cur.number);
    let fork: ScannedBlock | undefined;
    for (let i = 0; i < stored.length && !fork; i += SCAN_BATCH) {
      const slice = stored.slice(i, i + SCAN_BATCH);
      const onChain = await this.getBlocks(
        slice.map((s) => s.number),
        false,
      );
      fork = slice.find((s, k) => onChain[k]?.hash === s.hash);
    }
    const rewindTo = fork?.number ?? this.opts.startBlock - 1;
    logEvent("admin.reorg", { cursor: cur.number, rewind_to: rewindTo, known_fork: fork !== undefined });
    rewindScan(this.db, this.opts.chainId, rewindTo);
  }
}
