/** The job queue: claim order, backoff, dead jobs. */
import { afterEach, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { openDatabase } from "../../../src/core/state/db.ts";
import { JobQueue } from "../../../src/engine/queue.ts";
import { tempDir } from "../../helpers/binary.ts";

let cleanup: () => void = () => {};
let db: Database;
afterEach(() => {
  db?.close();
  cleanup();
});

function queue() {
  const t = tempDir();
  cleanup = t.cleanup;
  db = openDatabase(`${t.dir}/x.db`);
  return new JobQueue(db, { baseMs: 1000, maxMs: 5000 });
}

test("a job key is enqueued once; rerun re-arms only a finished job", () => {
  const q = queue();
  q.enqueue("provision", "provision:1:1", { subscription_id: 1 });
  q.enqueue("provision", "provision:1:1", { subscription_id: 1 });
  expect(q.counts().queued).toBe(1);
  const job = q.claim(0)!;
  q.enqueue("sync", "provision:1:1", {}, { rerun: true });
  expect(q.counts()).toMatchObject({ running: 1, queued: 0 });
  q.complete(job.id);
  q.enqueue("provision", "provision:1:1", { subscription_id: 1 });
  expect(q.counts().done).toBe(1);
  q.enqueue("provision", "provision:1:1", { subscription_id: 1 }, { rerun: true });
  expect(q.counts().queued).toBe(1);
});

test("failures back off exponentially up to the cap; permanent ones are dead and never claimed", () => {
  const q = queue();
  q.enqueue("provision", "a", {});
  const delays = [];
  for (let i = 0; i < 5; i++) {
    const job = q.claim(10_000_000)!;
    delays.push(q.fail(job, "boom", false, 0));
  }
  expect(delays).toEqual([1000, 2000, 4000, 5000, 5000]);
  expect(q.claim(4999)).toBeNull();
  const job = q.claim(5000)!;
  q.fail(job, "bad payload", true, 0);
  expect(q.claim(Number.MAX_SAFE_INTEGER)).toBeNull();
  expect(q.troubled()).toMatchObject([{ key: "a", state: "dead", last_error: "bad payload", attempts: 6 }]);
});

test("a job left running by a dead engine is picked up again; a parked one keeps its attempt count", () => {
  const q = queue();
  q.enqueue("destroy", "d", {});
  q.enqueue("destroy", "e", {});
  q.claim(0);
  expect(q.recoverAbandoned()).toBe(1);
  const again = q.claim(0)!;
  expect(again.key).toBe("d");
  expect(again.attempts).toBe(2);
  q.park(again.id);
  expect(q.claim(0)!.attempts).toBe(2);
});
