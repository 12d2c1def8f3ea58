/** Jobs in flight: one lane per kind of work, each with its own bound, so a slow VM create never holds up the rest. */
import { logEvent } from "../core/log.ts";
import type { EngineContext } from "./context.ts";
import { runJob } from "./jobs.ts";
import type { Job, JobKind } from "../core/state/jobs.ts";
import type { CreateSlots } from "./slots.ts";

export interface Lane {
  name: string;
  kinds: readonly JobKind[];
  limit: number;
  /** The create bound of provision jobs: the lane claims a job only while the gate can take it. */
  gate?: CreateSlots;
}

export class JobLanes {
  private readonly running = new Map<number, { job: Job; lane: Lane; done: Promise<void> }>();
  private readonly inLane = new Map<Lane, number>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly lanes: readonly Lane[],
    /** Called when a job finishes or passes its create: there may be room for another. */
    private readonly onRoom: () => void,
  ) {}

  get size(): number {
    return this.running.size;
  }

  /** Start due jobs until every lane is full or nothing is due. */
  fill(nowMs = Date.now()): void {
    for (const lane of this.lanes) {
      while ((this.inLane.get(lane) ?? 0) < lane.limit && (lane.gate?.claimable ?? true)) {
        const job = this.ctx.queue.claim(nowMs, lane.kinds);
        if (!job) break;
        const release = lane.gate?.claim();
        // A job past its create makes room for another claim: wake the loop to take it.
        const passedCreate = () => {
          if (release?.()) this.onRoom();
        };
        const done = runJob(this.ctx, job, passedCreate).finally(() => {
          release?.();
          this.running.delete(job.id);
          this.inLane.set(lane, (this.inLane.get(lane) ?? 1) - 1);
          this.onRoom();
        });
        this.running.set(job.id, { job, lane, done });
        this.inLane.set(lane, (this.inLane.get(lane) ?? 0) + 1);
      }
    }
  }

  /** On shutdown: let the jobs in hand finish for up to `graceMs`, then park the rest back to the queue. */
  async drain(graceMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = Promise.all([...this.running.values()].map((r) => r.done)).then(() => true);
    const finished = await Promise.race([
      all,
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (finished) return false;
    for (const { job } of this.running.values()) {
      this.ctx.queue.park(job.id);
      logEvent("engine.job_parked", { job: job.key });
    }
    return this.running.size > 0;
  }
}
