/** The VM-create bound: creates in flight never exceed it, waiters go in arrival order, claims stop at twice it. */
import { expect, test } from "bun:test";
import { CreateSlots } from "../../../src/engine/slots.ts";

test("at most `limit` creates run at once, and waiting ones start in arrival order", async () => {
  const slots = new CreateSlots(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const create = (i: number) =>
    slots.run(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await Bun.sleep(5);
      running--;
      return i;
    });
  expect(await Promise.all([0, 1, 2, 3, 4, 5].map(create))).toEqual([0, 1, 2, 3, 4, 5]);
  expect(most).toBe(2);
  expect(started).toEqual([0, 1, 2, 3, 4, 5]);
});

test("a failed create frees its slot", async () => {
  const slots = new CreateSlots(1);
  await expect(slots.run(() => Promise.reject(new Error("clone failed")))).rejects.toThrow("clone failed");
  expect(await slots.run(async () => "next")).toBe("next");
});

test("the lane may claim until twice the slots are ahead of their create; a release counts once", () => {
  const slots = new CreateSlots(2);
  const releases = [slots.claim(), slots.claim(), slots.claim()];
  expect(slots.claimable).toBe(true);
  releases.push(slots.claim());
  expect(slots.claimable).toBe(false);
  expect(releases[0]!()).toBe(true);
  expect(releases[0]!()).toBe(false);
  expect(slots.claimable).toBe(true);
  slots.claim();
  expect(slots.claimable).toBe(false);
});
