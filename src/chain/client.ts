/** viem clients for the configured chain, with fallback over several RPC URLs. */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  fallback,
  http,
  webSocket,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import type { Web3Config } from "../core/config/index.ts";

/** Per-request limits: a dead RPC endpoint costs at most ~timeout × (retries + 1) before the next URL is tried. */
export const RPC_TIMEOUT_MS = 15_000;
export const RPC_RETRIES = 2;

/** Everything a command needs to talk to one chain: the chain, a fallback transport and a read client. */
export interface ChainAccess {
  readonly chain: Chain;
  readonly rpcUrls: readonly string[];
  readonly transport: Transport;
  readonly publicClient: PublicClient;
}

/** `blockchain.rpc_url` first, then `blockchain.rpc_urls`, without duplicates. */
export function rpcUrlsOf(web3: Web3Config): string[] {
  return [...new Set([web3.blockchain.rpc_url, ...(web3.blockchain.rpc_urls ?? [])])];
}

function transportFor(url: string, timeout: number, retryCount: number): Transport {
  const opts = { timeout, retryCount, retryDelay: 250 };
  return /^wss?:/.test(url) ? webSocket(url, opts) : http(url, opts);
}

/**
 * Read access to the chain named in web3-defaults.yaml, with viem `fallback` over every
 * configured RPC URL (in order: the first healthy one serves; the next takes over on errors).
 */
export function connectChain(web3: Web3Config, opts: { timeoutMs?: number } = {}): ChainAccess {
  const rpcUrls = rpcUrlsOf(web3);
  const chain = defineChain({
    id: web3.blockchain.chain_id,
    name: `chain ${web3.blockchain.chain_id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: rpcUrls.filter((u) => u.startsWith("http")) } },
  });
  const timeout = opts.timeoutMs ?? RPC_TIMEOUT_MS;
  // With several URLs a failing one is not retried on its own: the fallback moves on at once and retries the whole list.
  const transport =
    rpcUrls.length === 1
      ? transportFor(rpcUrls[0]!, timeout, RPC_RETRIES)
      : fallback(
          rpcUrls.map((u) => transportFor(u, timeout, 0)),
          { retryCount: RPC_RETRIES, retryDelay: 250 },
        );
  // Receipts are polled every second: CLIs return soon after a block, and it is a handful of calls per transaction.
  const publicClient = createPublicClient({
    chain,
    transport,
    batch: { multicall: false },
    pollingInterval: 1_000,
  }) as PublicClient;
  return { chain, rpcUrls, transport, publicClient };
}

/** A wallet client that signs locally with `account` (the key never leaves the process). */
export function walletClientFor(access: ChainAccess, account: Account): WalletClient {
  return createWalletClient({ chain: access.chain, transport: access.transport, account });
}
