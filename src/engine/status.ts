/** Collect and format what `blockhost status` reports. */
import type { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { connectChain } from "../chain/client.ts";
import { onChain } from "../chain/errors.ts";
import { loadBlockhostConfig, loadDbConfig, loadWeb3Config } from "../core/config/index.ts";
import type { ProviderHealth } from "../chain/rpc-pool.ts";
import { oneLine } from "../core/errors.ts";
import { red } from "../core/output.ts";
import { paths } from "../core/paths.ts";
import { readCursor } from "../core/state/chain.ts";
import { getMeta } from "../core/state/meta.ts";
import { countByStatus } from "../core/state/vms.ts";
import { countJobsByState, type JobState, troubledJobs } from "../core/state/jobs.ts";
import { readBrokerAllocation } from "../core/config/broker-allocation.ts";
import { type CertificateStatus, formatCertificateStatus, readCertificateStatus } from "../network/certificates.ts";
import { brokerAllocation } from "../core/config/network.ts";
import { type ClusterStatus, clusterLines, clusterStatus } from "./status-nodes.ts";

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
    /** The getLogs block-range cap the engine is using now (it halves on range errors and grows back). */
    getlogs_cap: number | null;
    /** Per RPC provider, as the engine last saw it: requests, errors, rate limits, lag, last error. */
    providers: ProviderHealth[];
  };
  jobs: Record<JobState, number>;
  failing_jobs: Array<{
    key: string;
    state: string;
    attempts: number;
    last_error: string | null;
    next_retry_at: string | null;
  }>;
  vms: Record<string, number>;
  /** serve's certificate: ACME or self-signed, and why (null before serve's first check). */
  certificate: CertificateStatus | null;
  /** The host's public IPv6: `network-mode` and the prefix (manual or from the broker). */
  ipv6: { mode: string; prefix: string | null; broker_endpoint: string | null; error: string | null };
  /** On a Proxmox cluster: its nodes, their load and BlockHost VMs (null on a single host). */
  cluster: ClusterStatus | null;
  /** What stopped a full answer: a config file that does not load (exit 78), an unreachable chain (exit 1). */
  problems: Array<{ kind: "config" | "chain"; message: string }>;
}

const meta = getMeta;

function parseProviders(text: string | null): ProviderHealth[] {
  try {
    const v = JSON.parse(text ?? "[]") as unknown;
    return Array.isArray(v) ? (v as ProviderHealth[]) : [];
  } catch {
    return [];
  }
}

/** One line per provider: error rate, rate limits, lag seen, last error. */
function providerLine(p: ProviderHealth): string {
  const rate = p.requests ? ((100 * p.errors) / p.requests).toFixed(1) : "0.0";
  const lag = p.lag_seen ? `, lagging answers ${p.lag_seen}` : "";
  const cooling = p.cooling_until ? `, rate-limited until ${p.cooling_until}` : "";
  const last = p.last_error ? `; last error ${p.last_error_at} ${p.last_error}` : "";
  return `  provider ${p.url}: ${p.requests} requests, ${rate}% errors, ${p.rate_limited} rate-limited${lag}${cooling}${last}`;
}

/** A config file that does not load: status still reports what it could read, then exits 78. */
function tryConfig<T>(problems: StatusReport["problems"], file: string, load: () => T): T | null {
  if (!existsSync(file)) return null;
  try {
    return load();
  } catch (e) {
    problems.push({ kind: "config", message: oneLine(e) });
    return null;
  }
}

export async function collectStatus(db: Database): Promise<StatusReport> {
  const problems: StatusReport["problems"] = [];
  const blockhostCfg = tryConfig(problems, paths.blockhostConfig, () => loadBlockhostConfig());
  const backend = blockhostCfg?.backend ?? null;
  const dbCfg = tryConfig(problems, paths.dbConfig, () => loadDbConfig());
  const web3 = tryConfig(problems, paths.web3Config, () => loadWeb3Config());
  const chain: StatusReport["chain"] = {
    chain_id: null,
    head: null,
    cursor: null,
    lag: null,
    rpc_error: null,
    engine_last_poll_at: meta(db, "engine.last_poll_at"),
    engine_last_error: meta(db, "engine.last_error"),
    getlogs_cap: meta(db, "engine.getlogs_cap") === null ? null : Number(meta(db, "engine.getlogs_cap")),
    providers: parseProviders(meta(db, "engine.providers")),
  };
  if (web3) {
    chain.chain_id = web3.blockchain.chain_id;
    const cur = readCursor(db, chain.chain_id);
    chain.cursor = cur ? Number(cur.number) : null;
    try {
      const client = connectChain(web3, { timeoutMs: 3000 }).publicClient;
      chain.head = Number(await onChain("read the chain head", () => client.getBlockNumber()));
      chain.lag = chain.head - (chain.cursor ?? -1);
    } catch (e) {
      chain.rpc_error = oneLine(e);
      problems.push({ kind: "chain", message: `chain unreachable: ${chain.rpc_error}` });
    }
  }
  const troubled = troubledJobs(db, -1);
  return {
    backend,
    dry_run: backend === "dry-run",
    chain,
    jobs: countJobsByState(db),
    failing_jobs: troubled.map((j) => ({
      key: j.key,
      state: j.state,
      attempts: j.attempts,
      last_error: j.last_error,
      next_retry_at: j.state === "failed" ? new Date(j.next_run_at).toISOString() : null,
    })),
    vms: countByStatus(db),
    certificate: readCertificateStatus(db),
    ipv6: ipv6Status(),
    cluster: blockhostCfg ? await clusterStatus(db, blockhostCfg, dbCfg) : null,
    problems,
  };
}

/** The network mode and its prefix (and the broker's endpoint in broker mode), from the files finalize wrote. */
function ipv6Status(): StatusReport["ipv6"] {
  const modeFile = paths.config("network-mode");
  const mode = existsSync(modeFile) ? readFileSync(modeFile, "utf8").trim() : "none";
  try {
    if (mode === "broker") {
      const a = readBrokerAllocation();
      return { mode, prefix: a?.prefix ?? null, broker_endpoint: a?.broker_endpoint ?? null, error: null };
    }
    if (mode === "manual")
      return { mode, prefix: brokerAllocation().prefix ?? null, broker_endpoint: null, error: null };
  } catch (e) {
    return { mode, prefix: null, broker_endpoint: null, error: oneLine(e) };
  }
  return { mode, prefix: null, broker_endpoint: null, error: null };
}

function ipv6Line(v: StatusReport["ipv6"]): string {
  if (v.error) return `ipv6:     ${v.mode}: ${v.error}`;
  if (v.mode === "none" || !v.prefix) return `ipv6:     ${v.mode}${v.mode === "none" ? "" : " (no prefix saved)"}`;
  return `ipv6:     ${v.mode} ${v.prefix}${v.broker_endpoint ? ` through wg-broker to ${v.broker_endpoint}` : ""}`;
}

const retryNote = (j: StatusReport["failing_jobs"][number]) =>
  j.state === "failed" ? `, retry at ${j.next_retry_at}` : j.state === "running" ? ", retrying now" : ", not retried";

/** How many failing jobs the text form lists unless `--all` is given. */
export const FAILING_SHOWN = 20;

export function formatStatus(s: StatusReport, all = false): string {
  const c = s.chain;
  const lines = [
    `backend:  ${s.backend ?? "not configured"}${s.dry_run ? " (dry-run: the hypervisor is not called)" : ""}`,
    c.chain_id === null
      ? "chain:    not configured"
      : `chain:    ${c.chain_id}: head ${c.head ?? `unreachable (${c.rpc_error})`}, cursor ${c.cursor ?? "none"}, lag ${c.lag ?? "unknown"}`,
    `engine:   last poll ${c.engine_last_poll_at ?? "never"}${c.engine_last_error ? `; last error ${c.engine_last_error}` : ""}${c.getlogs_cap !== null ? `; getLogs range ${c.getlogs_cap} blocks` : ""}`,
    ...c.providers.map(providerLine),
    `jobs:     ${(Object.entries(s.jobs) as [string, number][]).map(([k, n]) => `${n} ${k}`).join(", ")}`,
    ...s.failing_jobs
      .slice(0, all ? undefined : FAILING_SHOWN)
      .map((j) => red(`  ${j.state} ${j.key} after ${j.attempts} attempt(s)${retryNote(j)}: ${j.last_error}`)),
    ...(!all && s.failing_jobs.length > FAILING_SHOWN
      ? [`  … and ${s.failing_jobs.length - FAILING_SHOWN} more (newest first; all of them: blockhost status --all)`]
      : []),
    `vms:      ${Object.entries(s.vms)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")}`,
    ...clusterLines(s.cluster),
    formatCertificateStatus(s.certificate),
    ipv6Line(s.ipv6),
    ...s.problems.map((p) => red(`problem:  ${p.message}`)),
  ];
  return lines.join("\n");
}
