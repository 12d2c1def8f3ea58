/**
 * Usage as graphs and summaries read it: rates per bucket over the last hour, day or month of a VM
 * (or of every VM on a host), from the stored points (core/state/usage.ts). The CLI, the customer
 * panel and the admin panel all answer from here, so they show the same numbers.
 */
import type { Database } from "bun:sqlite";
import { COARSE_STEP, currentUsage, FINE_STEP, type Step, usageAt, usagePoints } from "./state/usage.ts";
import { COUNTERS, type Counters, zeroCounters } from "./usage-counters.ts";

export const USAGE_RANGES = ["hour", "day", "month"] as const;
export type UsageRange = (typeof USAGE_RANGES)[number];

const RANGE: Record<UsageRange, { ms: number; step: Step }> = {
  hour: { ms: 3_600_000, step: FINE_STEP },
  day: { ms: 86_400_000, step: FINE_STEP },
  month: { ms: 30 * 86_400_000, step: COARSE_STEP },
};

/** One bucket of a graph: rates over the bucket (null where there was no reading: a gap is drawn). */
export interface SeriesPoint {
  /** The bucket's start, unix seconds. */
  t: number;
  /** CPU in use, in cores. */
  cpu: number | null;
  /** Memory in use, bytes (average over the bucket). */
  mem: number | null;
  /** Network received (rx) and sent (tx), disk read and written, in bytes per second. */
  rx: number | null;
  tx: number | null;
  read: number | null;
  write: number | null;
}

export interface UsageSeries {
  range: UsageRange;
  /** Seconds per bucket. */
  step: number;
  /** The range, unix seconds. */
  from: number;
  to: number;
  points: SeriesPoint[];
  /** What was used within the range (bytes; CPU in core-seconds). */
  used: { cpuSeconds: number; rxBytes: number; txBytes: number; readBytes: number; writeBytes: number };
  /** Memory the VM has (bytes, last seen), for the graph's scale; 0 when never sampled. */
  memMaxBytes: number;
}

const RATE_KEYS = [
  ["cpu", "cpuNs", 1e9],
  ["rx", "rxBytes", 1],
  ["tx", "txBytes", 1],
  ["read", "readBytes", 1],
  ["write", "writeBytes", 1],
] as const;

/** A VM's graph data for the range ending at `now` (unix ms). */
export function vmUsageSeries(db: Database, vmName: string, range: UsageRange, now: number): UsageSeries {
  const { ms, step } = RANGE[range];
  const stepMs = step * 1000;
  const from = now - ms;
  // One bucket before the range, so its first bucket has a rate.
  const stored = usagePoints(db, vmName, step, from - stepMs);
  const first = from - (from % stepMs);
  const points: SeriesPoint[] = [];
  let prev: (typeof stored)[number] | undefined;
  for (const p of stored) {
    if (p.at >= first) {
      const dt = prev ? (p.lastAt - prev.lastAt) / 1000 : 0;
      // Beyond three buckets without a reading the rate is unknown: a gap, not an average over it.
      const known = prev !== undefined && dt > 0 && dt <= 3 * step;
      const point: SeriesPoint = {
        t: p.at / 1000,
        cpu: null,
        mem: p.memUsedBytes,
        rx: null,
        tx: null,
        read: null,
        write: null,
      };
      for (const [key, counter, scale] of RATE_KEYS)
        point[key] = known && prev ? Math.max(0, p.total[counter] - prev.total[counter]) / scale / dt : null;
      points.push(point);
    }
    prev = p;
  }
  const end = currentUsage(db, vmName);
  const start = usageAt(db, vmName, from);
  const delta: Counters = zeroCounters();
  if (end) for (const c of COUNTERS) delta[c] = Math.max(0, end.total[c] - start[c]);
  return {
    range,
    step,
    from: Math.floor(from / 1000),
    to: Math.floor(now / 1000),
    points,
    used: {
      cpuSeconds: delta.cpuNs / 1e9,
      rxBytes: delta.rxBytes,
      txBytes: delta.txBytes,
      readBytes: delta.readBytes,
      writeBytes: delta.writeBytes,
    },
    memMaxBytes: stored.at(-1)?.memMaxBytes ?? 0,
  };
}

/** The sum over several VMs (a host's or a node's), bucket by bucket; a bucket no VM reported stays a gap. */
export function sumSeries(all: readonly UsageSeries[], range: UsageRange, now: number): UsageSeries {
  const { ms, step } = RANGE[range];
  const byT = new Map<number, SeriesPoint>();
  const used = { cpuSeconds: 0, rxBytes: 0, txBytes: 0, readBytes: 0, writeBytes: 0 };
  let memMaxBytes = 0;
  for (const s of all) {
    for (const k of Object.keys(used) as (keyof typeof used)[]) used[k] += s.used[k];
    memMaxBytes += s.memMaxBytes;
    for (const p of s.points) {
      const acc = byT.get(p.t) ?? { t: p.t, cpu: null, mem: null, rx: null, tx: null, read: null, write: null };
      for (const k of ["cpu", "mem", "rx", "tx", "read", "write"] as const)
        if (p[k] !== null) acc[k] = (acc[k] ?? 0) + (p[k] as number);
      byT.set(p.t, acc);
    }
  }
  return {
    range,
    step,
    from: Math.floor((now - ms) / 1000),
    to: Math.floor(now / 1000),
    points: [...byT.values()].sort((a, b) => a.t - b.t),
    used,
    memMaxBytes,
  };
}

/** Bytes in the largest binary unit that keeps at least 1 (1.5 GiB, 12.0 MiB, 512 B). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[i]}`;
}
