/**
 * Owner of the usage tables: per-VM monotonic counters (`usage_counters`) and the points graphs and
 * quotas read (`usage_points`). Each reading updates its VM's counters (core/usage-counters.ts does
 * the reset arithmetic) and rolls up at once into two resolutions: a 1-minute point and a 1-hour
 * point, each holding the cumulative totals at the last reading in that bucket and the memory
 * average. Retention keeps 1-minute points for a day and 1-hour points for 90 days, so one VM never
 * has more than MAX_POINTS_PER_VM rows whatever the sampling interval.
 *
 * Other modules read usage only through the functions here (traffic quotas: `networkBytesSince`).
 */
import type { Database } from "bun:sqlite";
import { advance, type CounterState, type Counters, type RawUsage, zeroCounters } from "../usage-counters.ts";

/** A bucket size in seconds. */
export type Step = 60 | 3600;
export const FINE_STEP: Step = 60;
export const COARSE_STEP: Step = 3600;
/** How long points of each step are kept (ms). */
export const RETENTION_MS: Readonly<Record<Step, number>> = { 60: 86_400_000, 3600: 90 * 86_400_000 };
/** Upper bound on stored points per VM (each step's retention in buckets, plus the bucket in progress). */
export const MAX_POINTS_PER_VM = RETENTION_MS[60] / 60_000 + 1 + RETENTION_MS[3600] / 3_600_000 + 1;

/** One stored bucket: totals at its last reading, memory averaged over its readings. */
export interface UsagePoint {
  /** The bucket's start (unix ms). */
  at: number;
  /** The last reading in the bucket (unix ms): rates are Δtotal / Δlast_at between buckets. */
  lastAt: number;
  total: Counters;
  memUsedBytes: number;
  memMaxBytes: number;
}

/** A VM's totals now (as of its last reading), or null when it was never sampled. */
export interface CurrentUsage {
  vmName: string;
  instance: string;
  at: number;
  total: Counters;
}

const COLS = "cpu_ns, rx_bytes, tx_bytes, read_bytes, write_bytes";
type Row = Record<string, number | string | null>;
const countersOf = (r: Row, prefix = ""): Counters => ({
  cpuNs: Number(r[`${prefix}cpu_ns`]),
  rxBytes: Number(r[`${prefix}rx_bytes`]),
  txBytes: Number(r[`${prefix}tx_bytes`]),
  readBytes: Number(r[`${prefix}read_bytes`]),
  writeBytes: Number(r[`${prefix}write_bytes`]),
});
const values = (c: Counters) => [c.cpuNs, c.rxBytes, c.txBytes, c.readBytes, c.writeBytes];

function loadState(db: Database, vmName: string): CounterState | null {
  const r = db.query("SELECT * FROM usage_counters WHERE vm_name = ?").get(vmName) as Row | null;
  if (!r) return null;
  return {
    instance: String(r.instance),
    at: Number(r.at),
    bootedAt: r.booted_at === null ? null : Number(r.booted_at),
    raw: countersOf(r, "raw_"),
    total: countersOf(r),
  };
}

/**
 * Record readings (one transaction): advance each VM's counters and upsert its minute and hour
 * points. Returns each VM's state after its reading.
 */
export function recordUsage(db: Database, readings: readonly RawUsage[]): CounterState[] {
  const saveState = db.query(
    `INSERT OR REPLACE INTO usage_counters (vm_name, instance, at, booted_at, raw_cpu_ns, raw_rx_bytes, raw_tx_bytes,
      raw_read_bytes, raw_write_bytes, ${COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
  );
  const savePoint = db.query(
    `INSERT INTO usage_points (vm_name, step, at, last_at, ${COLS}, mem_sum_bytes, mem_max_bytes, samples)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1)
     ON CONFLICT(vm_name, step, at) DO UPDATE SET last_at = ?4, cpu_ns = ?5, rx_bytes = ?6, tx_bytes = ?7,
      read_bytes = ?8, write_bytes = ?9, mem_sum_bytes = mem_sum_bytes + ?10, mem_max_bytes = ?11,
      samples = samples + 1`,
  );
  return db.transaction(() =>
    readings.map((s) => {
      const prev = loadState(db, s.vmName);
      const next = advance(prev, s);
      if (next === prev) return next;
      saveState.run(s.vmName, next.instance, next.at, next.bootedAt, ...values(next.raw), ...values(next.total));
      for (const step of [FINE_STEP, COARSE_STEP]) {
        const bucket = s.at - (s.at % (step * 1000));
        savePoint.run(
          s.vmName,
          step,
          bucket,
          s.at,
          ...values(next.total),
          Math.max(0, Math.floor(s.memUsedBytes)),
          Math.max(0, Math.floor(s.memMaxBytes)),
        );
      }
      return next;
    }),
  )();
}

/** A VM's monotonic totals as of its last reading (null: never sampled). */
export function currentUsage(db: Database, vmName: string): CurrentUsage | null {
  const s = loadState(db, vmName);
  return s ? { vmName, instance: s.instance, at: s.at, total: s.total } : null;
}

/**
 * The totals at time `t`: those of the last reading at or before `t`, exact to the reading within
 * the last day (1-minute points), to the hour before that (the end of the last whole hour before `t`).
 * Zeros when the VM had no reading before `t` (everything it used is after `t`).
 */
export function usageAt(db: Database, vmName: string, t: number): Counters {
  const fine = db
    .query(`SELECT ${COLS} FROM usage_points WHERE vm_name = ? AND step = 60 AND last_at <= ? ORDER BY at DESC LIMIT 1`)
    .get(vmName, t) as Row | null;
  const coarse = db
    .query(
      `SELECT ${COLS}, last_at FROM usage_points WHERE vm_name = ? AND step = 3600 AND last_at <= ?
        ORDER BY at DESC LIMIT 1`,
    )
    .get(vmName, t) as Row | null;
  // A minute point is as late as or later than any hour point before t, when one is still kept.
  if (fine) return countersOf(fine);
  return coarse ? countersOf(coarse) : zeroCounters();
}

/**
 * Network bytes a VM received (rx) and sent (tx) since `since` (unix ms), from its monotonic
 * totals: counter resets, reboots and engine restarts in between neither lose nor double count.
 * Precision is `usageAt`'s; a caller that needs an exact period start can keep `currentUsage` at
 * that moment and subtract itself.
 */
export function networkBytesSince(db: Database, vmName: string, since: number): { rxBytes: number; txBytes: number } {
  const now = currentUsage(db, vmName);
  if (!now) return { rxBytes: 0, txBytes: 0 };
  const then = usageAt(db, vmName, since);
  return { rxBytes: now.total.rxBytes - then.rxBytes, txBytes: now.total.txBytes - then.txBytes };
}

/** A VM's points of one step from `from` (unix ms, bucket start) on, oldest first. */
export function usagePoints(db: Database, vmName: string, step: Step, from: number): UsagePoint[] {
  const rows = db
    .query(
      `SELECT at, last_at, ${COLS}, mem_sum_bytes, mem_max_bytes, samples FROM usage_points
        WHERE vm_name = ? AND step = ? AND at >= ? ORDER BY at`,
    )
    .all(vmName, step, from) as Row[];
  return rows.map((r) => ({
    at: Number(r.at),
    lastAt: Number(r.last_at),
    total: countersOf(r),
    memUsedBytes: Math.round(Number(r.mem_sum_bytes) / Math.max(1, Number(r.samples))),
    memMaxBytes: Number(r.mem_max_bytes),
  }));
}

/**
 * Drop points past their retention and the counters of VMs that have neither a point left nor a
 * reading within the coarse retention (destroyed long ago). Returns the rows deleted.
 */
export function pruneUsage(db: Database, now: number): number {
  return db.transaction(() => {
    let n = 0;
    for (const step of [FINE_STEP, COARSE_STEP])
      n += db.query("DELETE FROM usage_points WHERE step = ? AND at < ?").run(step, now - RETENTION_MS[step]).changes;
    n += db
      .query(
        `DELETE FROM usage_counters WHERE at < ? AND NOT EXISTS
          (SELECT 1 FROM usage_points p WHERE p.vm_name = usage_counters.vm_name)`,
      )
      .run(now - RETENTION_MS[COARSE_STEP]).changes;
    return n;
  })();
}

/** Names of the VMs with any stored usage. */
export function sampledVmNames(db: Database): string[] {
  return (db.query("SELECT vm_name FROM usage_counters ORDER BY vm_name").all() as { vm_name: string }[]).map(
    (r) => r.vm_name,
  );
}
