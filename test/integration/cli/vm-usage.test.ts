/** `blockhost vm usage` (compiled binary, dry-run backend): the dry-run sampler's readings as a summary and JSON. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../../src/core/state/db.ts";
import { samplePass } from "../../../src/engine/usage-duty.ts";
import { DryRunBackend } from "../../../src/provision/backends/dry-run.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const NOW = Date.parse("2026-03-02T12:00:00Z");
let env: { root: string; cleanup: () => void };
const bh = (...args: string[]) => runBlockhost(args, { root: env.root, env: { BLOCKHOST_NOW: String(NOW / 1000) } });

beforeAll(async () => {
  env = provisionRoot();
  for (const name of ["web1", "web2"]) {
    const r = await runBlockhost(
      ["vm", "create", name, "--owner-wallet", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "--apply"],
      {
        root: env.root,
      },
    );
    if (r.code !== 0) throw new Error(r.stderr);
  }
  // The engine's pass, an hour of it, on web1 only (web2 is then suspended: never sampled).
  const db = openDatabase(join(env.root, "var/lib/blockhost/blockhost.db"));
  db.query("UPDATE vms SET status = 'suspended' WHERE vm_name = 'web2'").run();
  for (let m = 60; m >= 0; m--) await samplePass(db, new DryRunBackend(), NOW - m * 60_000);
  db.close();
});
afterAll(() => env.cleanup());

test("a summary of the period and JSON with every bucket; the same totals in both", async () => {
  const text = await bh("vm", "usage", "web1", "--range", "hour");
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/^web1: last hour \(1-minute buckets\)\n {2}CPU {6}\d+\.\d\d cores on average/);
  expect(text.stdout).toMatch(/network {2}[\d.]+ (KiB|MiB) in, [\d.]+ (KiB|MiB) out/);
  const json = JSON.parse((await bh("vm", "usage", "web1", "--range", "hour", "--json")).stdout);
  expect(json).toMatchObject({ vm_name: "web1", range: "hour", step: 60, sampled_at: "2026-03-02T12:00:00.000Z" });
  expect(json.points).toHaveLength(61);
  expect(json.points.at(-1).rx).toBeGreaterThan(0);
  expect(json.used.rxBytes).toBeGreaterThan(0);
  expect(json.since_first_sample.rxBytes).toBeGreaterThanOrEqual(json.used.rxBytes);
});

test("a VM never sampled says so; an unknown VM and a bad range are errors with what to do", async () => {
  const none = await bh("vm", "usage", "web2");
  expect(none.code).toBe(0);
  expect(none.stdout).toBe(
    "web2: no usage recorded yet (the engine samples running VMs; see docs/operator/usage.md)\n",
  );
  const missing = await bh("vm", "usage", "nope");
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('no VM named "nope" (see: blockhost vm list)');
  const bad = await bh("vm", "usage", "web1", "--range", "year");
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--range: expected one of hour, day, month, got "year"');
});
