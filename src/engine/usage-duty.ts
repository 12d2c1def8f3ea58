/**
 * The engine's usage sampler: every `usage.sample_interval_s` one reading of every running VM
 * (one hypervisor call through the agent), recorded as monotonic usage; once an hour, points past
 * their retention are pruned (core/state/usage.ts).
 */
import type { Database } from "bun:sqlite";
import { logEvent } from "../core/log.ts";
import { pruneUsage, recordUsage } from "../core/state/usage.ts";
import { listVms } from "../core/state/vms.ts";
import type { Backend } from "../provision/backends/types.ts";

/** blockhost.yaml `usage.sample_interval_s` when absent. */
export const DEFAULT_SAMPLE_INTERVAL_S = 60;
const PRUNE_EVERY_MS = 3_600_000;

/** One sampling pass: read every active VM and record it. Returns how many VMs answered. */
export async function samplePass(db: Database, backend: Backend, at: number): Promise<number> {
  if (!backend.sampleUsage) return 0;
  const vms = listVms(db, "active").map((v) => ({ name: v.vm_name, vmid: v.vmid, ipv6: v.ipv6_address }));
  if (vms.length === 0) return 0;
  const readings = await backend.sampleUsage(vms, at);
  recordUsage(db, readings);
  return readings.length;
}

export class UsageDuty {
  private nextSample = 0;
  private nextPrune = 0;

  constructor(
    private readonly db: Database,
    private readonly backend: Backend,
    private readonly intervalMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Sample when due; a failed pass is logged and retried at the next interval (never fatal to the engine). */
  async poll(): Promise<void> {
    const now = this.clock();
    if (now >= this.nextSample) {
      this.nextSample = now + this.intervalMs;
      const started = performance.now();
      try {
        const n = await samplePass(this.db, this.backend, now);
        logEvent("usage.sampled", { vms: n, ms: Math.round(performance.now() - started) });
      } catch (e) {
        logEvent("usage.sample_failed", { error: (e as Error).message });
      }
    }
    if (now >= this.nextPrune) {
      this.nextPrune = now + PRUNE_EVERY_MS;
      const deleted = pruneUsage(this.db, now);
      if (deleted) logEvent("usage.pruned", { rows: deleted });
    }
  }

  nextDue(): number {
    return Math.min(this.nextSample, this.nextPrune);
  }
}
