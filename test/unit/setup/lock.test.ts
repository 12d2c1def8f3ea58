/** The finalization lock: one live run at a time; a lock left by a killed process is taken over. */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { migrate } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { acquireSetupLock, releaseSetupLock } from "../../../src/core/state/setup.ts";

test("a live holder blocks; a dead holder's lock is taken over; release frees it", async () => {
  const db = new Database(":memory:");
  migrate(db, MIGRATIONS);
  const other = Bun.spawn(["sleep", "30"]);
  expect(acquireSetupLock(db, other.pid)).toBeUndefined();
  expect(acquireSetupLock(db, process.pid)).toBe(other.pid);
  other.kill("SIGKILL");
  await other.exited;
  expect(acquireSetupLock(db, process.pid)).toBeUndefined();
  releaseSetupLock(db, process.pid);
  const again = Bun.spawn(["sleep", "30"]);
  expect(acquireSetupLock(db, again.pid)).toBeUndefined();
  again.kill("SIGKILL");
  await again.exited;
});
