/**
 * Monotonic usage from hypervisor counters that restart. A hypervisor reports a VM's CPU time,
 * network and disk bytes as counters since its QEMU process started; they fall back to 0 when the
 * VM is power-cycled, migrated to another node, or re-created. `advance` turns a stream of such raw
 * readings into totals that only grow: each reading adds what happened since the previous one, and
 * a reset (another process, or a counter that went down) adds the new raw value, which is exactly
 * what the new process has counted since it started. Nothing is counted twice; what a process
 * counted after the last reading before it died is the only thing that can be missed.
 *
 * Pure functions, no clock and no SQL: the state module (core/state/usage.ts) stores the result.
 */

/** The cumulative counters BlockHost keeps per VM. */
export const COUNTERS = ["cpuNs", "rxBytes", "txBytes", "readBytes", "writeBytes"] as const;
export type Counter = (typeof COUNTERS)[number];
/** One value per counter: raw (since the process started) or total (since BlockHost first sampled the VM). */
export type Counters = Record<Counter, number>;

/** One reading of one VM, as the backend's sampler reports it. */
export interface RawUsage {
  vmName: string;
  /** When it was read (unix ms). */
  at: number;
  /**
   * Which hypervisor process the counters come from (libvirt: QEMU pid and start time; Proxmox:
   * node and boot time). A different value means the counters restarted. "" when unknown: then only
   * a counter that went down is taken as a restart.
   */
  instance: string;
  /**
   * Seconds the process has run, for backends whose marker cannot tell a restart (Proxmox reports
   * uptime, not a process id): a boot time (`at` − uptime) later than the stored one is a restart.
   */
  uptimeS?: number;
  /** Counters since the process started. `cpuNs` is ignored when `cpuCores` is set. */
  raw: Counters;
  /**
   * CPU in use at `at`, in cores, for backends that report a rate instead of a cumulative time
   * (Proxmox's `cpu` × `maxcpu`); null when `raw.cpuNs` is cumulative (libvirt's `cpu.time`).
   */
  cpuCores: number | null;
  /** Memory the guest uses and the memory it has (bytes); a gauge, not a counter. */
  memUsedBytes: number;
  memMaxBytes: number;
}

/** What is stored per VM between readings. */
export interface CounterState {
  instance: string;
  /** The last reading's time (unix ms). */
  at: number;
  /** When the process started (unix ms, from `uptimeS`), or null when the backend has no uptime. */
  bootedAt: number | null;
  /** The last reading's raw counters. */
  raw: Counters;
  /** Monotonic totals since the VM was first sampled. */
  total: Counters;
}

/**
 * A rate (Proxmox CPU) is integrated over the gap to the previous reading, but never over more than
 * this: after an engine outage the current rate says nothing about the hours before.
 */
export const MAX_RATE_GAP_MS = 5 * 60_000;

/** How far a boot time derived from uptime may drift between readings (Proxmox's status daemon refreshes it every 10 s). */
export const UPTIME_SLACK_MS = 30_000;

export const zeroCounters = (): Counters => ({ cpuNs: 0, rxBytes: 0, txBytes: 0, readBytes: 0, writeBytes: 0 });

const clean = (v: number) => (Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/**
 * The state after one more reading. The first reading of a VM counts its raw counters (what it did
 * since it started is usage too). A reading not newer than the stored one is ignored (returns
 * `prev`). A rate-reported CPU adds `cpuCores × elapsed`, elapsed capped at MAX_RATE_GAP_MS.
 */
export function advance(prev: CounterState | null, s: RawUsage): CounterState {
  const raw = zeroCounters();
  for (const c of COUNTERS) raw[c] = clean(s.raw[c]);
  const bootedAt = s.uptimeS === undefined ? null : s.at - Math.floor(s.uptimeS * 1000);
  if (!prev) {
    if (s.cpuCores !== null) raw.cpuNs = 0;
    return { instance: s.instance, at: s.at, bootedAt, raw, total: { ...raw } };
  }
  if (s.at <= prev.at) return prev;
  const restarted =
    (s.instance !== prev.instance && s.instance !== "" && prev.instance !== "") ||
    (bootedAt !== null && prev.bootedAt !== null && bootedAt > prev.bootedAt + UPTIME_SLACK_MS);
  const total = { ...prev.total };
  for (const c of COUNTERS) {
    if (c === "cpuNs" && s.cpuCores !== null) continue;
    total[c] += restarted || raw[c] < prev.raw[c] ? raw[c] : raw[c] - prev.raw[c];
  }
  if (s.cpuCores !== null) {
    raw.cpuNs = 0;
    total.cpuNs += Math.round(clean(s.cpuCores * 1e6) * Math.min(s.at - prev.at, MAX_RATE_GAP_MS));
  }
  // A process that keeps running keeps its first boot estimate, so drift does not accumulate.
  const keptBoot = restarted || prev.bootedAt === null ? bootedAt : prev.bootedAt;
  return { instance: s.instance, at: s.at, bootedAt: keptBoot, raw, total };
}
