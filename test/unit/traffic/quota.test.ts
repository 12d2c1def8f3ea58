/** The quota duty over a real (in-memory) database: periods, overage actions, extensions, restarts, display. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { blockhostConfigSchema } from "../../../src/core/config/schemas.ts";
import { migrate } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { getTrafficRow } from "../../../src/core/state/traffic.ts";
import { recordUsage } from "../../../src/core/state/usage.ts";
import { getVm, insertVm, updateVm } from "../../../src/core/state/vms.ts";
import { zeroCounters } from "../../../src/core/usage-counters.ts";
import { TrafficDuty } from "../../../src/engine/traffic/duty.ts";
import type { NicLimit, VmRef } from "../../../src/provision/backends/types.ts";
import { trafficLine, vmTraffic } from "../../../src/provision/traffic-text.ts";

const T0 = Date.parse("2027-01-31T12:00:00Z");
const plans = blockhostConfigSchema.parse({
  server: { key_file: "/k" },
  plans: {
    1: { cpu: 1, memory_mb: 1024, disk_gb: 10, traffic_gb_month: 1, rate_mbit: 100, throttled_mbit: 5 },
    2: { cpu: 1, memory_mb: 1024, disk_gb: 10, traffic_gb_month: 1, overage: "suspend-network" },
  },
}).plans!;

function setup(planId: number) {
  const db = new Database(":memory:", { strict: true });
  migrate(db, MIGRATIONS);
  insertVm(db, {
    vm_name: "vm1",
    vmid: 100,
    backend: "dry-run",
    status: "active",
    ip_address: "10.0.0.2",
    ipv6_address: null,
    owner: "admin",
    wallet_address: null,
    owner_wallet: null,
    username: "admin",
    purpose: "",
    network_mode: null,
    cpu: 1,
    memory_mb: 1024,
    disk_gb: 10,
    subscription_id: null,
    created_at: new Date(T0).toISOString(),
    expires_at: new Date(T0 + 30 * 86_400_000).toISOString(),
    suspended_at: null,
    destroyed_at: null,
    nft_token_id: null,
    nft_minted: false,
    nft_minted_at: null,
    gecos_synced: true,
    network_config_synced: true,
    extra: { plan_id: planId },
  });
  const applied: NicLimit[] = [];
  let fail = false;
  const backend = {
    async setNicLimit(_vm: VmRef, l: NicLimit) {
      if (fail) throw new Error("hypervisor down");
      applied.push(l);
    },
  };
  let raw = 0;
  /** The sampler's reading: `bytes` more sent by the guest, at `at`. */
  const use = (bytes: number, at: number) => {
    raw += bytes;
    recordUsage(db, [
      {
        vmName: "vm1",
        at,
        instance: "i1",
        raw: { ...zeroCounters(), txBytes: raw },
        cpuCores: null,
        memUsedBytes: 0,
        memMaxBytes: 0,
      },
    ]);
  };
  const pass = (at: number) => new TrafficDuty({ db, backend, plans, intervalMs: 0, clock: () => at }).pass();
  return { db, applied, use, pass, setFail: (f: boolean) => (fail = f) };
}

describe("traffic duty", () => {
  test("throttle at the quota, hold across passes and a restart, lift on the anniversary (Jan 31 → Feb 28)", async () => {
    const s = setup(1);
    s.use(0, T0);
    s.use(600_000_000, T0 + 60_000);
    expect((await s.pass(T0 + 60_000)).applied).toEqual([]);
    s.use(400_000_000, T0 + 120_000);
    expect((await s.pass(T0 + 120_000)).applied).toEqual([{ vm: "vm1", state: "throttled", usedBytes: 1e9 }]);
    expect(s.applied).toEqual([{ rateMbit: 5, linkDown: false }]);
    // A new duty over the same database (an engine restart) applies nothing and counts nothing twice.
    expect((await s.pass(T0 + 180_000)).applied).toEqual([]);
    expect(vmTraffic(s.db, getVm(s.db, "vm1")!, plans, T0 + 180_000)).toMatchObject({
      usedBytes: 1e9,
      remainingBytes: 0,
      state: "throttled",
      resetAt: Date.parse("2027-02-28T12:00:00Z"),
    });
    expect(trafficLine(vmTraffic(s.db, getVm(s.db, "vm1")!, plans, T0 + 180_000))).toBe(
      "1.00 GB of 1.00 GB, 0.00 GB left; resets 2027-02-28 12:00 UTC; over quota: throttled to 5 Mbit/s",
    );
    // Ten minutes on, the throttle is set again (a host reboot may have dropped it).
    expect((await s.pass(T0 + 120_000 + 600_000)).applied).toEqual([{ vm: "vm1", state: "throttled", usedBytes: 1e9 }]);
    const reset = Date.parse("2027-02-28T12:00:00Z");
    expect((await s.pass(reset)).applied).toEqual([{ vm: "vm1", state: "normal", usedBytes: 0 }]);
    expect(s.applied.at(-1)).toEqual({ rateMbit: 100, linkDown: false });
    expect(getTrafficRow(s.db, "vm1")).toMatchObject({ period_start: reset, state: "normal" });
  });

  test("a failed apply keeps the old state and is retried on the next pass", async () => {
    const s = setup(2);
    s.use(0, T0);
    s.use(2e9, T0 + 60_000);
    s.setFail(true);
    expect((await s.pass(T0 + 60_000)).failed).toEqual([{ vm: "vm1", error: "hypervisor down" }]);
    expect(getTrafficRow(s.db, "vm1")?.state).toBe("normal");
    s.setFail(false);
    expect((await s.pass(T0 + 120_000)).applied).toEqual([{ vm: "vm1", state: "suspended", usedBytes: 2e9 }]);
    expect(s.applied).toEqual([{ rateMbit: null, linkDown: true }]);
  });

  test("an extension lifts a suspension and anchors a new period; one within the quota changes nothing", async () => {
    const s = setup(2);
    s.use(0, T0);
    s.use(5e8, T0 + 60_000);
    await s.pass(T0 + 60_000);
    updateVm(s.db, "vm1", { expires_at: new Date(T0 + 60 * 86_400_000).toISOString() });
    expect((await s.pass(T0 + 120_000)).applied).toEqual([]);
    expect(getTrafficRow(s.db, "vm1")?.anchor_at).toBe(T0);
    s.use(6e8, T0 + 180_000);
    expect((await s.pass(T0 + 180_000)).applied).toEqual([{ vm: "vm1", state: "suspended", usedBytes: 1.1e9 }]);
    const extendAt = T0 + 5 * 86_400_000;
    updateVm(s.db, "vm1", { expires_at: new Date(T0 + 90 * 86_400_000).toISOString() });
    expect((await s.pass(extendAt)).applied).toEqual([{ vm: "vm1", state: "normal", usedBytes: 0 }]);
    expect(getTrafficRow(s.db, "vm1")).toMatchObject({ anchor_at: extendAt, period_start: extendAt });
    expect(vmTraffic(s.db, getVm(s.db, "vm1")!, plans, extendAt).resetAt).toBe(Date.parse("2027-03-05T12:00:00Z"));
  });

  test("a VM without a plan quota is only counted; a plan that loses its quota lifts the action", async () => {
    const s = setup(1);
    s.use(0, T0);
    s.use(2e9, T0 + 60_000);
    await s.pass(T0 + 60_000);
    const noQuota = { 1: { cpu: 1, memory_mb: 1024, disk_gb: 10, rate_mbit: 100 } };
    const r = await new TrafficDuty({
      db: s.db,
      backend: { setNicLimit: async (_v, l) => void s.applied.push(l) },
      plans: noQuota,
      intervalMs: 0,
      clock: () => T0 + 120_000,
    }).pass();
    expect(r.applied).toEqual([{ vm: "vm1", state: "normal", usedBytes: 0 }]);
    expect(s.applied.at(-1)).toEqual({ rateMbit: 100, linkDown: false });
    expect(getTrafficRow(s.db, "vm1")).toBeNull();
    expect(trafficLine(vmTraffic(s.db, getVm(s.db, "vm1")!, noQuota, T0 + 120_000))).toBe(
      "2.00 GB this period (no quota); resets 2027-02-28 12:00 UTC; 100 Mbit/s",
    );
  });
});
