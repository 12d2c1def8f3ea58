/** Owner of the setup tables: finalization step records and the finalization lock (its transactions: state/nonces.ts). */
import type { Database } from "bun:sqlite";
import { processAlive } from "../process.ts";

export type StepStatus = "pending" | "running" | "done" | "failed";

export interface StepRecord {
  step: string;
  status: StepStatus;
  error: string | null;
  attempts: number;
  started_at: string | null;
  completed_at: string | null;
  result: Record<string, unknown>;
}

interface StepRow extends Omit<StepRecord, "result"> {
  result: string;
}

const toRecord = (row: StepRow): StepRecord => ({ ...row, result: JSON.parse(row.result) as Record<string, unknown> });
const nowIso = () => new Date().toISOString();

/** Every recorded step, in insertion order of the runner's list (callers sort by their own order). */
export function listSteps(db: Database): StepRecord[] {
  return (db.query("SELECT * FROM setup_steps").all() as StepRow[]).map(toRecord);
}

export function getStep(db: Database, step: string): StepRecord | null {
  const row = db.query("SELECT * FROM setup_steps WHERE step = ?").get(step) as StepRow | null;
  return row ? toRecord(row) : null;
}

export function markStepRunning(db: Database, step: string): void {
  db.query(`INSERT INTO setup_steps (step, status, attempts, started_at) VALUES (?1, 'running', 1, ?2)
    ON CONFLICT(step) DO UPDATE SET status = 'running', error = NULL, attempts = attempts + 1, started_at = ?2`).run(
    step,
    nowIso(),
  );
}

export function markStepDone(db: Database, step: string, result: Record<string, unknown>): void {
  db.query("UPDATE setup_steps SET status = 'done', error = NULL, completed_at = ?, result = ? WHERE step = ?").run(
    nowIso(),
    JSON.stringify(result),
    step,
  );
}

export function markStepFailed(db: Database, step: string, error: string): void {
  db.query("UPDATE setup_steps SET status = 'failed', error = ? WHERE step = ?").run(error, step);
}

/** Set these steps back to pending so the next run does them again (chain intents are kept). */
export function resetSteps(db: Database, steps: readonly string[]): void {
  const q = db.query("UPDATE setup_steps SET status = 'pending', error = NULL, completed_at = NULL WHERE step = ?");
  db.transaction(() => {
    for (const s of steps) q.run(s);
  })();
}

/**
 * Take the one finalization lock for `pid`; a lock held by a dead process (a crash) is taken over.
 * Returns the live holder's pid when another run holds it.
 */
export function acquireSetupLock(db: Database, pid: number): number | undefined {
  return db
    .transaction(() => {
      const row = db.query("SELECT pid FROM setup_lock WHERE id = 1").get() as { pid: number } | null;
      if (row && row.pid !== pid && processAlive(row.pid)) return row.pid;
      db.query("INSERT OR REPLACE INTO setup_lock (id, pid, since) VALUES (1, ?, ?)").run(pid, nowIso());
      return undefined;
    })
    .immediate();
}

export function releaseSetupLock(db: Database, pid: number): void {
  db.query("DELETE FROM setup_lock WHERE id = 1 AND pid = ?").run(pid);
}
