/** The engine's job queue: claim order and retry backoff over the `jobs` table. */
import type { Database } from "bun:sqlite";
import {
  claimNextJob,
  completeJob,
  countJobsByState,
  enqueueJob,
  type Job,
  type JobKind,
  type JobState,
  nextJobDue,
  parkJob,
  recordJobFailure,
  requeueRunningJobs,
  retryJob,
  troubledJobs,
} from "../core/state/jobs.ts";

/**
 * The durable job table. Every side effect of the engine is a row here: claimed one at a time,
 * retried with exponential backoff, and parked back to `queued` when the engine stops mid-job.
 */
export class JobQueue {
  constructor(
    private readonly db: Database,
    private readonly backoff: { baseMs: number; maxMs: number },
  ) {}

  /**
   * Add a job unless one with this key exists. `rerun` re-arms a finished job with the same key
   * (e.g. a second extension of the same subscription); an unfinished one is left as it is.
   */
  enqueue(kind: JobKind, key: string, payload: Record<string, unknown>, opts: { rerun?: boolean } = {}): void {
    enqueueJob(this.db, { kind, key, payload, rerun: opts.rerun ?? false });
  }

  /** Take the next due job (state → running), or null. */
  claim(nowMs = Date.now()): Job | null {
    return claimNextJob(this.db, nowMs);
  }

  complete(id: number): void {
    completeJob(this.db, id);
  }

  /** Record a failure: retry after base·2^(attempts−1) (capped), or `dead` for a permanent error. */
  fail(job: Job, error: string, permanent: boolean, nowMs = Date.now()): number {
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(30, job.attempts - 1));
    recordJobFailure(this.db, { id: job.id, state: permanent ? "dead" : "failed", error, nextRunAt: nowMs + delay });
    return delay;
  }

  /** Run a failed or dead job again now (the operator's retry); false when no such job is waiting. */
  retry(key: string): boolean {
    return retryJob(this.db, key);
  }

  /** Put a job back without counting the attempt (shutdown in the middle of it). */
  park(id: number): void {
    parkJob(this.db, id);
  }

  /** At start: a job left `running` belongs to an engine that died; it runs again (jobs are idempotent). */
  recoverAbandoned(): number {
    return requeueRunningJobs(this.db);
  }

  /** When the next job is due (ms epoch), or null when nothing is pending. */
  nextDue(): number | null {
    return nextJobDue(this.db);
  }

  counts(): Record<JobState, number> {
    return countJobsByState(this.db);
  }

  /** Jobs whose last attempt failed (waiting to retry, retrying right now, or dead), newest first. */
  troubled(limit = 20): Job[] {
    return troubledJobs(this.db, limit);
  }
}
