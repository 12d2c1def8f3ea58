/** The engine's settings, from web3-defaults.yaml with defaults. */
import type { Hex } from "viem";
import {
  DEFAULT_PLAN_SIZE,
  loadBlockhostConfig,
  loadWeb3Config,
  type BlockhostConfig,
  type PlanSize,
  type Web3Config,
} from "../core/config/index.ts";
import { contractAddress } from "../chain/context.ts";

/** Everything the engine's loop is tuned by, with defaults; read once at start. */
export interface EngineSettings {
  chainId: number;
  subscriptions: Hex;
  nft: Hex;
  /** Blocks behind head that count as final (ignored when useFinalized). */
  confirmations: number;
  useFinalized: boolean;
  startBlock: bigint;
  /** The getLogs block-range cap (halved on a provider's range error, grown back after successes). */
  logChunkBlocks: number;
  /** Blocks behind the cursor read once more in the next poll (a lagging backend's gaps are caught). */
  rereadBlocks: number;
  /** One RPC request's timeout; a hung provider costs this much before the next one is asked. */
  rpcTimeoutMs: number;
  pollIntervalMs: number;
  /** VM creates in flight: the hypervisor's parallel clone capacity. */
  concurrency: number;
  /** Provision jobs in flight (most of them waiting for their mint to be mined): the chain-only bound. */
  chainConcurrency: number;
  /** Other jobs (GECOS, sync, destroy) in flight, in their own lane so a slow create never holds them up. */
  otherConcurrency: number;
  /** A mint without a receipt this long is replaced at its nonce with 30 % higher fees (and again each time after). */
  repriceAfterMs: number;
  reconcileIntervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long SIGTERM lets the job in hand finish before parking it (systemd's stop timeout is 90 s). */
  stopGraceMs: number;
  serverKeyFile: string;
  /** blockhost.yaml `plans:` — the VM size each plan id sells. */
  planSizes: Readonly<Record<string, PlanSize>>;
}

/** Parallel VM creates each backend handles well (dry-run only writes records). */
const DEFAULT_CONCURRENCY: Record<string, number> = { "dry-run": 64, proxmox: 4, libvirt: 2 };
/**
 * Provision jobs in flight past their create: a mint waits two to four blocks between taking its
 * nonce and its receipt being read, so 512 keeps a 30M-gas block of ~120 mints filled every second.
 */
const DEFAULT_CHAIN_CONCURRENCY = 512;

export interface EngineConfigs {
  web3: Web3Config;
  blockhost: BlockhostConfig;
  settings: EngineSettings;
}

export function loadEngineSettings(): EngineConfigs {
  const web3 = loadWeb3Config();
  const blockhost = loadBlockhostConfig();
  const e = blockhost.engine ?? {};
  return {
    web3,
    blockhost,
    settings: {
      chainId: web3.blockchain.chain_id,
      subscriptions: contractAddress(web3, "subscriptions"),
      nft: contractAddress(web3, "nft"),
      confirmations: web3.blockchain.confirmations ?? 12,
      useFinalized: e.use_finalized ?? false,
      startBlock: BigInt(e.start_block ?? 0),
      logChunkBlocks: e.log_chunk_blocks ?? 1000,
      rereadBlocks: e.reread_blocks ?? 32,
      rpcTimeoutMs: e.rpc_timeout_ms ?? 10_000,
      pollIntervalMs: e.poll_interval_ms ?? 5000,
      concurrency: e.concurrency ?? DEFAULT_CONCURRENCY[blockhost.backend] ?? 2,
      chainConcurrency: Math.max(e.chain_concurrency ?? DEFAULT_CHAIN_CONCURRENCY, e.concurrency ?? 1),
      otherConcurrency: e.other_concurrency ?? 8,
      repriceAfterMs: (e.reprice_after_s ?? 60) * 1000,
      reconcileIntervalMs: (e.reconcile_interval_s ?? 300) * 1000,
      retryBaseMs: e.retry_base_ms ?? 5000,
      retryMaxMs: e.retry_max_ms ?? 600_000,
      stopGraceMs: e.stop_grace_ms ?? 30_000,
      serverKeyFile: blockhost.server.key_file,
      planSizes: blockhost.plans ?? {},
    },
  };
}

/** The VM size a plan sells: blockhost.yaml `plans.<id>`, else the documented default. */
export function planSize(settings: Pick<EngineSettings, "planSizes">, planId: number): PlanSize {
  return settings.planSizes[String(planId)] ?? DEFAULT_PLAN_SIZE;
}
