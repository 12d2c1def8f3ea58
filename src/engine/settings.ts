/** The engine's settings, from web3-defaults.yaml with defaults. */
import type { Hex } from "viem";
import { loadBlockhostConfig, loadWeb3Config, type BlockhostConfig, type Web3Config } from "../core/config/index.ts";
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
  logChunkBlocks: number;
  pollIntervalMs: number;
  reconcileIntervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long SIGTERM lets the job in hand finish before parking it (systemd's stop timeout is 90 s). */
  stopGraceMs: number;
  serverKeyFile: string;
}

export interface EngineConfigs { web3: Web3Config; blockhost: BlockhostConfig; settings: EngineSettings }

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
      logChunkBlocks: e.log_chunk_blocks ?? 2000,
      pollIntervalMs: e.poll_interval_ms ?? 5000,
      reconcileIntervalMs: (e.reconcile_interval_s ?? 300) * 1000,
      retryBaseMs: e.retry_base_ms ?? 5000,
      retryMaxMs: e.retry_max_ms ?? 600_000,
      stopGraceMs: e.stop_grace_ms ?? 30_000,
      serverKeyFile: blockhost.server.key_file,
    },
  };
}
