/** The engine's main loop: poll, run jobs, reconcile, stop cleanly. */
import { existsSync } from "node:fs";
import { createPublicClient, type PublicClient } from "viem";
import { AgentClient } from "../agent/client.ts";
import { connectChain, rpcUrlsOf } from "../chain/client.ts";
import { RpcPool } from "../chain/rpc-pool.ts";
import { loadDeployer } from "../chain/context.ts";
import { chainError } from "../chain/errors.ts";
import { readKeyFile } from "../crypto/keyfile.ts";
import { oneLine } from "../core/errors.ts";
import { loadDbConfig } from "../core/config/index.ts";
import { logEvent } from "../core/log.ts";
import { paths } from "../core/paths.ts";
import { openDatabase } from "../core/state/db.ts";
import { setMeta } from "../core/state/meta.ts";
import { ENGINE_PID_KEY } from "./vm-follow.ts";
import { restoreHostPrefix } from "../network/prefix-host.ts";
import { openProvisioner } from "../provision/context.ts";
import { listVms } from "../core/state/vms.ts";
import type { EngineContext } from "./context.ts";
import { READ_BATCH } from "./chain-reads.ts";
import { EngineDuties } from "./duties.ts";
import { FeeCache } from "./fees.ts";
import { applyLogs } from "./events.ts";
import { JobLanes } from "./lanes.ts";
import { highestIntentNonce } from "./mint.ts";
import { NonceManager } from "./nonces.ts";
import { ReceiptBatcher } from "./receipts.ts";
import { CreateSlots } from "./slots.ts";
import { JobQueue } from "./queue.ts";
import { reconcile } from "./reconciler.ts";
import { loadEngineSettings } from "./settings.ts";
import { RangeCap } from "./log-reader.ts";
import { LogWatcher } from "./watcher.ts";

/** How often the loop looks for jobs other processes queued (a customer's click waits at most this long). */
const JOB_CHECK_MS = 500;

export interface EngineRunOptions {
  /** Exit once caught up with the chain and no job is due (tests, catch-up benchmarks). */
  once?: boolean;
}

/** Write the engine's last poll outcome where `blockhost status` reads it. */
function heartbeat(ctx: EngineContext, fields: Record<string, string | null>): void {
  for (const [k, v] of Object.entries(fields)) {
    setMeta(ctx.db, `engine.${k}`, v);
  }
}

/**
 * The engine: poll the chain (durable cursor), turn logs into jobs, run due jobs one at a time,
 * reconcile on an interval. SIGTERM/SIGINT: the job in hand finishes (or is parked after a
 * grace period), then the loop exits cleanly.
 */
export async function runEngine(opts: EngineRunOptions = {}): Promise<void> {
  const { web3, blockhost, settings } = loadEngineSettings();
  const db = openDatabase();
  const provisioner = openProvisioner({ db, say: (line) => logEvent("provision", { message: line }) });
  const access = connectChain(web3);
  const rpc = new RpcPool(rpcUrlsOf(web3), { timeoutMs: settings.rpcTimeoutMs, coalesce: READ_BATCH });
  // Receipts on a fast chain should not wait viem's default 4 s polling interval.
  const publicClient = createPublicClient({
    chain: access.chain,
    transport: rpc.transport(),
    pollingInterval: Math.min(1000, settings.pollIntervalMs),
    cacheTime: 0,
    batch: { multicall: false },
  }) as PublicClient;
  const minter = loadDeployer(web3);
  const fees = new FeeCache(rpc, Math.min(1000, settings.pollIntervalMs));
  const ctx: EngineContext = {
    db,
    provisioner,
    settings,
    rpc,
    access: { ...access, transport: rpc.transport(), publicClient },
    historyCap: new RangeCap(settings.logChunkBlocks),
    queue: new JobQueue(db, { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs }),
    minter,
    fees,
    nonces: new NonceManager({
      rpc,
      db,
      chainId: settings.chainId,
      account: minter,
      fees,
      highestRecorded: () => highestIntentNonce(listVms(db)),
    }),
    mintGasBySize: new Map(),
    createSlots: new CreateSlots(settings.concurrency),
    receipts: new ReceiptBatcher(rpc, Math.min(1000, settings.pollIntervalMs), async () => (await fees.current()).head),
    serverKey: readKeyFile(settings.serverKeyFile, "server key file"),
  };
  const watcher = new LogWatcher(db, rpc, {
    chainId: settings.chainId,
    address: settings.subscriptions,
    confirmations: settings.confirmations,
    useFinalized: settings.useFinalized,
    startBlock: settings.startBlock,
    maxChunk: settings.logChunkBlocks,
    rereadBlocks: settings.rereadBlocks,
  });

  let stopping = false;
  let wake: () => void = () => {};
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logEvent("engine.stopping", { signal });
    wake();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  const recovered = ctx.queue.recoverAbandoned();
  // `blockhost vm …` follows its job while an engine runs and runs it itself when none does.
  setMeta(db, ENGINE_PID_KEY, String(process.pid));
  logEvent("engine.started", {
    chain_id: settings.chainId,
    subscriptions: settings.subscriptions,
    backend: provisioner.backend.name,
    dry_run: provisioner.backend.simulated,
    recovered_jobs: recovered,
    concurrency: settings.concurrency,
    chain_concurrency: settings.chainConcurrency,
  });
  if (!provisioner.backend.simulated && existsSync(paths.dbConfig)) {
    // The host's prefix addresses do not survive a reboot; VMs' routes come back as they start.
    await restoreHostPrefix(new AgentClient(), loadDbConfig())
      .then((result) => logEvent("engine.ipv6_host", { result }))
      .catch((e) => logEvent("engine.ipv6_host_failed", { error: oneLine(e) }));
  }
  const duties = await EngineDuties.start(ctx, { web3, blockhost });
  const lanes = new JobLanes(
    ctx,
    [
      // Up to `chain_concurrency` provision jobs, of which at most `concurrency` create a VM at once.
      { name: "provision", kinds: ["provision"], limit: settings.chainConcurrency, gate: ctx.createSlots },
      { name: "other", kinds: ["sync", "destroy", "gecos", "seal", "send"], limit: settings.otherConcurrency },
      // What people ask for (panel, admin, CLI): never behind a burst of purchases.
      { name: "vm", kinds: ["power", "reinstall"], limit: settings.otherConcurrency },
    ],
    () => wake(),
  );
  let lastReconcile = 0;
  let lastPoll = 0;
  let caughtUp = false;
  let busy = false;
  while (!stopping) {
    // A finished job wakes the loop to start the next one; the chain is polled once per interval.
    if (Date.now() - lastPoll >= settings.pollIntervalMs) {
      lastPoll = Date.now();
      try {
        const r = await watcher.poll(
          (logs) => applyLogs(db, ctx.queue, settings.chainId, logs),
          () => stopping,
        );
        caughtUp = r.cursor >= r.target;
        heartbeat(ctx, {
          last_poll_at: new Date().toISOString(),
          head: String(r.head),
          target: String(r.target),
          last_error: null,
          getlogs_cap: String(watcher.cap.size),
        });
      } catch (e) {
        caughtUp = false;
        const error = oneLine(chainError(e, "poll the chain"));
        heartbeat(ctx, { last_error: `${new Date().toISOString()} ${error}` });
        logEvent("engine.poll_failed", { error });
      }
      heartbeat(ctx, { providers: JSON.stringify(rpc.health()) });
      if (!stopping) await duties.poll(watcher.cursor()?.number ?? null, () => stopping);
    }
    if (stopping) break;
    lanes.fill();
    if (Date.now() - lastReconcile >= settings.reconcileIntervalMs) {
      // Bounded so a slow or failing provider delays the next poll by about one interval at most.
      await reconcile(ctx, watcher.cursor()?.number ?? null, Date.now() + Math.max(1000, settings.pollIntervalMs));
      lastReconcile = Date.now();
      lanes.fill();
    }
    // After a burst the heap holds the garbage of hundreds of jobs: collect it once when the work is done
    // and hand the freed pages back (shrink), so the resting footprint does not stay at the peak.
    if (lanes.size > 0) busy = true;
    else if (busy) {
      busy = false;
      Bun.gc(true);
      Bun.shrink();
    }
    const due = ctx.queue.nextDue();
    if (opts.once && caughtUp && lanes.size === 0 && (due === null || due > Date.now())) break;
    // Sleep until the next poll or the next job due (a due job not started now waits for a free slot: a finish wakes us).
    const nextPoll = lastPoll + settings.pollIntervalMs;
    const dutyDue = duties.nextDue();
    // Requests from serve and the CLI land in the job table: look at it every JOB_CHECK_MS, not only per poll.
    const until = Math.min(
      nextPoll,
      due === null || due <= Date.now() ? nextPoll : due,
      dutyDue ?? nextPoll,
      Date.now() + JOB_CHECK_MS,
    );
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(10, until - Date.now()));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  const parked = await lanes.drain(settings.stopGraceMs);
  setMeta(db, ENGINE_PID_KEY, null);
  // A parked job may still be running: leave the database open for it until the process exits.
  if (!parked) db.close();
  logEvent("engine.stopped", { max_rss_kb: process.resourceUsage().maxRSS });
}
