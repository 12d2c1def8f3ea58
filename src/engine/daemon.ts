/** The engine's main loop: poll, run jobs, reconcile, stop cleanly. */
import { createPublicClient, type PublicClient } from "viem";
import { connectChain } from "../chain/client.ts";
import { loadDeployer } from "../chain/context.ts";
import { chainError } from "../chain/errors.ts";
import { readKeyFile } from "../chain/keyfile.ts";
import { oneLine } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { openDatabase } from "../core/state/db.ts";
import { setMeta } from "../core/state/meta.ts";
import { openProvisioner } from "../provision/context.ts";
import type { EngineContext } from "./context.ts";
import { EngineDuties } from "./duties.ts";
import { applyLogs } from "./events.ts";
import { runJob } from "./jobs.ts";
import { JobQueue } from "./queue.ts";
import { reconcile } from "./reconciler.ts";
import { loadEngineSettings } from "./settings.ts";
import { LogWatcher } from "./watcher.ts";

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
  // Receipts on a fast chain should not wait viem's default 4 s polling interval.
  const publicClient = createPublicClient({ chain: access.chain, transport: access.transport, pollingInterval: Math.min(1000, settings.pollIntervalMs), cacheTime: 0, batch: { multicall: false } }) as PublicClient;
  const ctx: EngineContext = {
    db, provisioner, settings,
    access: { ...access, publicClient },
    queue: new JobQueue(db, { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs }),
    minter: loadDeployer(web3),
    serverKey: readKeyFile(settings.serverKeyFile, "server key file"),
  };
  const watcher = new LogWatcher(db, publicClient, {
    chainId: settings.chainId, address: settings.subscriptions, confirmations: settings.confirmations,
    useFinalized: settings.useFinalized, startBlock: settings.startBlock, maxChunk: settings.logChunkBlocks,
  });

  let stopping = false;
  let wake: () => void = () => {};
  let signalStop: () => void = () => {};
  const stopped = new Promise<"stop">((resolve) => { signalStop = () => resolve("stop"); });
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logEvent("engine.stopping", { signal });
    signalStop();
    wake();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  const recovered = ctx.queue.recoverAbandoned();
  logEvent("engine.started", { chain_id: settings.chainId, subscriptions: settings.subscriptions, backend: provisioner.backend.name, dry_run: provisioner.backend.simulated, recovered_jobs: recovered });
  const duties = await EngineDuties.start(ctx, { web3, blockhost });
  let lastReconcile = 0;
  let parked = false;
  while (!stopping) {
    let caughtUp = false;
    try {
      const r = await watcher.poll((logs) => applyLogs(db, ctx.queue, settings.chainId, logs), () => stopping);
      caughtUp = r.cursor >= r.target;
      heartbeat(ctx, { last_poll_at: new Date().toISOString(), head: String(r.head), target: String(r.target), last_error: null });
    } catch (e) {
      const error = oneLine(chainError(e, "poll the chain"));
      heartbeat(ctx, { last_error: `${new Date().toISOString()} ${error}` });
      logEvent("engine.poll_failed", { error });
    }
    for (let job = ctx.queue.claim(); job && !stopping; job = stopping ? null : ctx.queue.claim()) {
      const finished = runJob(ctx, job).then(() => true);
      if ((await Promise.race([finished, stopped])) === "stop") {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const done = await Promise.race([finished, new Promise<false>((r) => { timer = setTimeout(() => r(false), settings.stopGraceMs); })]);
        clearTimeout(timer);
        if (!done) {
          parked = true;
          ctx.queue.park(job.id);
          logEvent("engine.job_parked", { job: job.key });
        }
      }
    }
    if (!stopping && Date.now() - lastReconcile >= settings.reconcileIntervalMs) {
      await reconcile(ctx, watcher.cursor()?.number ?? null);
      lastReconcile = Date.now();
    }
    if (!stopping) await duties.poll(watcher.cursor()?.number ?? null, () => stopping);
    const due = ctx.queue.nextDue();
    if (opts.once && caughtUp && (due === null || due > Date.now())) break;
    if (due !== null && due <= Date.now()) continue;
    await new Promise<void>((resolve) => {
      const dutyDue = duties.nextDue();
      const wakeAt = due === null ? dutyDue : dutyDue === null ? due : Math.min(due, dutyDue);
      const timer = setTimeout(resolve, wakeAt === null ? settings.pollIntervalMs : Math.min(settings.pollIntervalMs, Math.max(10, wakeAt - Date.now())));
      wake = () => { clearTimeout(timer); resolve(); };
    });
  }
  // A parked job may still be running: leave the database open for it until the process exits.
  if (!parked) db.close();
  logEvent("engine.stopped", { max_rss_kb: process.resourceUsage().maxRSS });
}
