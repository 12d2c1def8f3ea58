/** Following a lifecycle job from another process (CLI, serve) until the engine has run it. */
import type { Database } from "bun:sqlite";
import { BlockhostError } from "../core/errors.ts";
import { jobByKey, type Job } from "../core/state/jobs.ts";
import { getMeta } from "../core/state/meta.ts";

/** The meta key where a running engine leaves its pid (removed when it stops). */
export const ENGINE_PID_KEY = "engine.pid";

/** Whether an engine process is running on this database (its pid is recorded and alive). */
export function engineRunning(db: Database): boolean {
  const pid = Number(getMeta(db, ENGINE_PID_KEY));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: alive but another user's (root reading the service's database).
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export type Finished = { state: "done" } | { state: "dead"; error: string };

/** The outcome of a finished job, or null while it is queued or running. */
export function outcome(job: Job | null): Finished | null {
  if (!job) return { state: "dead", error: "the job is gone" };
  if (job.state === "done") return { state: "done" };
  if (job.state === "dead") return { state: "dead", error: job.last_error ?? "failed" };
  return null;
}

/** Wait until the job is done or dead (polling the table every `everyMs`); E_TIMEOUT after `timeoutMs`. */
export async function followJob(
  db: Database,
  key: string,
  opts: { timeoutMs: number; everyMs?: number; onState?: (job: Job) => void },
): Promise<Finished> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "";
  for (;;) {
    const job = jobByKey(db, key);
    if (job && job.state !== last) {
      last = job.state;
      opts.onState?.(job);
    }
    const end = outcome(job);
    if (end) return end;
    if (Date.now() >= deadline)
      throw new BlockhostError("E_TIMEOUT", `job ${key} is still ${job?.state} after ${opts.timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
}
