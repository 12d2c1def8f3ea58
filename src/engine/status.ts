/** Collect and format what `blockhost status` reports. */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { connectChain } from "../chain/client.ts";
import { onChain } from "../chain/errors.ts";
import { loadBlockhostConfig, loadWeb3Config } from "../core/config/index.ts";
import { oneLine } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { readCursor } from "../core/state/chain.ts";
import { getMeta } from "../core/state/meta.ts";
import { countByStatus } from "../core/state/vms.ts";
import type { JobState } from "../core/state/jobs.ts";
import { JobQueue } from "./queue.ts";

/** What `blockhost status` reports (also its --json shape). */
export interface StatusReport {
  backend: string | null;
  dry_run: boolean;
  chain: {
    chain_id: number | null;
    head: number | null;
    cursor: number | null;
    lag: number | null;
    rpc_error: string | null;
    engine_last_poll_at: string | null;
    engine_last_error: string | null;
  };
  jobs: Record<JobState, number>;
  failing_jobs: Array<{ key: string; state: string; attempts: number; last_error: string | null; next_retry_at: string | null }>;
  vms: Record<string, number>;
}

export async function collectStatus(db: Database): Promise<StatusReport> {
  let backend: string | null = null;
  try { backend = existsSync(paths.blockhostConfig) ? loadBlockhostConfig().backend : null; } catch { backend = null; }
  const queue = new JobQueue(db, { baseMs: 1, maxMs: 1 });
  const chain: StatusReport["chain"] = { chain_id: null, head: null, cursor: null, lag: null, rpc_error: null, engine_last_poll_at: getMeta(db, "engine.last_poll_at"), engine_last_error: getMeta(db, "engine.last_error") };
  if (existsSync(paths.web3Config)) {
    const web3 = loadWeb3Config();
    chain.chain_id = web3.blockchain.chain_id;
    const cur = readCursor(db, chain.chain_id);
    chain.cursor = cur ? Number(cur.number) : null;
    try {
      const client = connectChain(web3, { timeoutMs: 3000 }).publicClient;
      chain.head = Number(await onChain("read the chain head", () => client.getBlockNumber()));
      chain.lag = chain.head - (chain.cursor ?? -1);
    } catch (e) {
      chain.rpc_error = oneLine(e);
    }
  }
  return {
    backend,
    dry_run: backend === "dry-run",
    chain,
    jobs: queue.counts(),
    failing_jobs: queue.troubled().map((j) => ({ key: j.key, state: j.state, attempts: j.attempts, last_error: j.last_error, next_retry_at: j.state === "failed" ? new Date(j.next_run_at).toISOString() : null })),
    vms: countByStatus(db),
  };
}

export function formatStatus(s: StatusReport): string {
  const c = s.chain;
  const lines = [
    `backend:  ${s.backend ?? "not configured"}${s.dry_run ? " (dry-run: the hypervisor is not called)" : ""}`,
    c.chain_id === null
      ? "chain:    not configured"
      : `chain:    ${c.chain_id}: head ${c.head ?? `unreachable (${c.rpc_error})`}, cursor ${c.cursor ?? "none"}, lag ${c.lag ?? "unknown"}`,
    `engine:   last poll ${c.engine_last_poll_at ?? "never"}${c.engine_last_error ? `; last error ${c.engine_last_error}` : ""}`,
    `jobs:     ${(Object.entries(s.jobs) as [string, number][]).map(([k, n]) => `${n} ${k}`).join(", ")}`,
    ...s.failing_jobs.map((j) => `  ${j.state} ${j.key} after ${j.attempts} attempt(s)${j.state === "failed" ? `, retry at ${j.next_retry_at}` : j.state === "running" ? ", retrying now" : ", not retried"}: ${j.last_error}`),
    `vms:      ${Object.entries(s.vms).map(([k, n]) => `${n} ${k}`).join(", ")}`,
  ];
  return lines.join("\n");
}
