import type { Database } from "bun:sqlite";

export type JobState = "queued" | "running" | "failed" | "done" | "dead";
export type JobKind = "provision" | "sync" | "destroy" | "gecos";
export const ALL_KINDS: readonly JobKind[] = ["provision", "sync", "destroy", "gecos"];

export interface Job {
  id: number;
  kind: JobKind;
  key: string;
  payload: Record<string, unknown>;
  state: JobState;
  attempts: number;
  next_run_at: number;
  last_error: string | null;
}

/** A job failed in a way retrying cannot fix (it becomes `dead`, shown by `blockhost status`). */
export class PermanentJobError extends Error {}

const row = (r: Record<string, unknown>): Job => ({ ...(r as unknown as Job), payload: JSON.parse(String(r.payload)) });
const stamp = () => new Date().toISOString();

/**
 * The durable job table. Every side effect of the engine is a row here: claimed one at a time,
 * retried with exponential backoff, and parked back to `queued` when the engine stops mid-job.
 */
export class JobQueue {
  constructor(private readonly db: Database, private readonly backoff: { baseMs: number; maxMs: number }) {}

  /**
   * Add a job unless one with this key exists. `rerun` re-arms a finished job with the same key
   * (e.g. a second extension of the same subscription); an unfinished one is left as it is.
   */
  enqueue(kind: JobKind, key: string, payload: Record<string, unknown>, opts: { rerun?: boolean } = {}): void {
    const t = stamp();
    this.db.query(`INSERT INTO jobs (kind, key, payload, state, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?4)
      ON CONFLICT(key) DO UPDATE SET state = 'queued', attempts = 0, next_run_at = 0, last_error = NULL, payload = ?3, updated_at = ?4
      WHERE ?5 = 1 AND state IN ('done', 'dead')`).run(kind, key, JSON.stringify(payload), t, opts.rerun ? 1 : 0);
  }

  /** Take the next due job (state → running), or null; `kinds` limits it to those kinds. */
  claim(nowMs = Date.now(), kinds: readonly JobKind[] = ALL_KINDS): Job | null {
    if (kinds.length === 0) return null;
    const r = this.db.query(`UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?2
      WHERE id = (SELECT id FROM jobs WHERE state IN ('queued', 'failed') AND next_run_at <= ?1 AND kind IN (SELECT value FROM json_each(?3))
        ORDER BY next_run_at, id LIMIT 1)
      RETURNING *`).get(nowMs, stamp(), JSON.stringify(kinds)) as Record<string, unknown> | null;
    return r ? row(r) : null;
  }

  complete(id: number): void {
    this.db.query("UPDATE jobs SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?").run(stamp(), id);
  }

  /** Record a failure: retry after base·2^(attempts−1) (capped), or `dead` for a permanent error. */
  fail(job: Job, error: string, permanent: boolean, nowMs = Date.now()): number {
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(30, job.attempts - 1));
    this.db.query("UPDATE jobs SET state = ?, last_error = ?, next_run_at = ?, updated_at = ? WHERE id = ?")
      .run(permanent ? "dead" : "failed", error.slice(0, 500), nowMs + delay, stamp(), job.id);
    return delay;
  }

  /** Put a job back without counting the attempt (shutdown in the middle of it). */
  park(id: number): void {
    this.db.query("UPDATE jobs SET state = 'queued', attempts = MAX(0, attempts - 1), updated_at = ? WHERE id = ? AND state = 'running'").run(stamp(), id);
  }

  /** At start: a job left `running` belongs to an engine that died; it runs again (jobs are idempotent). */
  recoverAbandoned(): number {
    return this.db.query("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'").run(stamp()).changes;
  }

  /** When the next job is due (ms epoch), or null when nothing is pending. */
  nextDue(): number | null {
    return (this.db.query("SELECT MIN(next_run_at) AS t FROM jobs WHERE state IN ('queued', 'failed')").get() as { t: number | null }).t;
  }

  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { queued: 0, running: 0, failed: 0, done: 0, dead: 0 };
    for (const r of this.db.query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").all() as { state: JobState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** Jobs whose last attempt failed (waiting to retry, retrying right now, or dead), newest first. */
  troubled(limit = 20): Job[] {
    return (this.db.query("SELECT * FROM jobs WHERE state IN ('failed', 'dead') OR (state = 'running' AND last_error IS NOT NULL) ORDER BY updated_at DESC LIMIT ?").all(limit) as Record<string, unknown>[]).map(row);
  }
}
