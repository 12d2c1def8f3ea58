/** The `jobs` table: the engine's durable side effects, one row per job key. */
import type { Database } from "bun:sqlite";

export type JobState = "queued" | "running" | "failed" | "done" | "dead";
export type JobKind = "provision" | "sync" | "destroy" | "gecos" | "seal" | "send";

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

const fromRow = (r: Record<string, unknown>): Job => ({
  ...(r as unknown as Job),
  payload: JSON.parse(String(r.payload)),
});
const stamp = () => new Date().toISOString();

/**
 * Add a job unless one with this key exists. `rerun` re-arms a finished job with the same key;
 * an unfinished one is left as it is.
 */
export function enqueueJob(
  db: Database,
  job: { kind: JobKind; key: string; payload: Record<string, unknown>; rerun: boolean },
): void {
  db.query(`INSERT INTO jobs (kind, key, payload, state, created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?4)
    ON CONFLICT(key) DO UPDATE SET state = 'queued', attempts = 0, next_run_at = 0, last_error = NULL, payload = ?3,
      updated_at = ?4
    WHERE ?5 = 1 AND state IN ('done', 'dead')`).run(
    job.kind,
    job.key,
    JSON.stringify(job.payload),
    stamp(),
    job.rerun ? 1 : 0,
  );
}

export const ALL_JOB_KINDS: readonly JobKind[] = ["provision", "sync", "destroy", "gecos", "seal", "send"];

/** Take the next job due at `nowMs` (state → running, attempts + 1) among `kinds`, or null. */
export function claimNextJob(db: Database, nowMs: number, kinds: readonly JobKind[] = ALL_JOB_KINDS): Job | null {
  // One indexed look-up per kind (jobs_claim), not a sort of every queued job: the backlog can be thousands.
  const earliest = db.query(`SELECT id, next_run_at FROM jobs WHERE kind = ?1 AND state IN ('queued', 'failed')
    AND next_run_at <= ?2 ORDER BY next_run_at, id LIMIT 1`);
  const take = db.query(`UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1
    RETURNING *`);
  return db.transaction(() => {
    let best: { id: number; next_run_at: number } | null = null;
    for (const kind of kinds) {
      const r = earliest.get(kind, nowMs) as { id: number; next_run_at: number } | null;
      if (r && (!best || r.next_run_at < best.next_run_at || (r.next_run_at === best.next_run_at && r.id < best.id)))
        best = r;
    }
    if (!best) return null;
    const r = take.get(best.id, stamp()) as Record<string, unknown> | null;
    return r ? fromRow(r) : null;
  })();
}

export function completeJob(db: Database, id: number): void {
  db.query("UPDATE jobs SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?").run(stamp(), id);
}

/** Record a failed attempt: `failed` (retried at `nextRunAt`) or `dead`. */
export function recordJobFailure(
  db: Database,
  failure: { id: number; state: "failed" | "dead"; error: string; nextRunAt: number },
): void {
  db.query("UPDATE jobs SET state = ?, last_error = ?, next_run_at = ?, updated_at = ? WHERE id = ?").run(
    failure.state,
    failure.error.slice(0, 500),
    failure.nextRunAt,
    stamp(),
    failure.id,
  );
}

/** Put a running job back without counting the attempt. */
export function parkJob(db: Database, id: number): void {
  db.query(
    "UPDATE jobs SET state = 'queued', attempts = MAX(0, attempts - 1), updated_at = ? WHERE id = ? AND state = 'running'",
  ).run(stamp(), id);
}

/** Every `running` job back to `queued`; returns how many. */
export function requeueRunningJobs(db: Database): number {
  return db.query("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'").run(stamp()).changes;
}

/** When the next job is due (ms epoch), or null when nothing is pending. */
export function nextJobDue(db: Database): number | null {
  return (
    db.query("SELECT MIN(next_run_at) AS t FROM jobs WHERE state IN ('queued', 'failed')").get() as {
      t: number | null;
    }
  ).t;
}

export function countJobsByState(db: Database): Record<JobState, number> {
  const out: Record<JobState, number> = { queued: 0, running: 0, failed: 0, done: 0, dead: 0 };
  const rows = db.query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").all() as {
    state: JobState;
    n: number;
  }[];
  for (const r of rows) out[r.state] = r.n;
  return out;
}

/** Jobs whose last attempt failed (waiting to retry, retrying right now, or dead), newest first. */
export function troubledJobs(db: Database, limit: number): Job[] {
  const rows = db
    .query(`SELECT * FROM jobs WHERE state IN ('failed', 'dead') OR (state = 'running' AND last_error IS NOT NULL)
      ORDER BY updated_at DESC LIMIT ?`)
    .all(limit) as Record<string, unknown>[];
  return rows.map(fromRow);
}

/** The state of the job with this key, or null when there is none. */
export function jobState(db: Database, key: string): JobState | null {
  return (db.query("SELECT state FROM jobs WHERE key = ?").get(key) as { state: JobState } | null)?.state ?? null;
}

/** The job with this key, or null when there is none. */
export function jobByKey(db: Database, key: string): Job | null {
  const r = db.query("SELECT * FROM jobs WHERE key = ?").get(key) as Record<string, unknown> | null;
  return r ? fromRow(r) : null;
}

/** Run a failed or dead job again now (attempts from zero); false when no such job is waiting. */
export function retryJob(db: Database, key: string): boolean {
  return (
    db
      .query(
        "UPDATE jobs SET state = 'queued', attempts = 0, next_run_at = 0, updated_at = ? WHERE key = ? AND state IN ('failed', 'dead')",
      )
      .run(stamp(), key).changes === 1
  );
}
