/** A lifecycle job as a page follows it: its state over SSE until it is done or dead. */
import type { Database } from "bun:sqlite";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { jobByKey, type Job } from "../../core/state/jobs.ts";
import { outcome } from "../../engine/vm-follow.ts";

/** What a page shows of a job: never the payload (it names the requester). */
export interface JobView {
  key: string;
  vm: string;
  action: string;
  state: "queued" | "running" | "done" | "failed";
  error: string | null;
}

export function jobView(job: Job): JobView {
  const end = outcome(job);
  return {
    key: job.key,
    vm: String(job.payload.vm ?? ""),
    action: String(job.payload.action ?? job.kind),
    state: end ? (end.state === "done" ? "done" : "failed") : job.state === "running" ? "running" : "queued",
    error: end?.state === "dead" ? end.error.split("\n")[0]!.slice(0, 300) : null,
  };
}

/** Lifecycle job keys as pages and URLs carry them. */
export const JOB_KEY = /^(power|reinstall|vmdestroy):[a-zA-Z0-9._-]{1,64}:[0-9a-z]{6,20}$/;

/** SSE `job` events (a JobView each time it changes) until the job ends or the client leaves. */
export function jobEvents(c: Context, db: Database, job: Job): Response {
  return streamSSE(c, async (stream) => {
    let last = "";
    let quiet = 0;
    while (!stream.aborted) {
      const now = jobByKey(db, job.key);
      if (!now) return;
      const view = jobView(now);
      const json = JSON.stringify(view);
      if (json !== last) {
        await stream.writeSSE({ event: "job", data: json });
        last = json;
        quiet = 0;
      } else if (++quiet >= 40) {
        await stream.writeSSE({ event: "ping", data: "" });
        quiet = 0;
      }
      if (view.state === "done" || view.state === "failed") return;
      await stream.sleep(250);
    }
  });
}
