/** Usage counters and their storage: resets never lose or double count, rollups and retention bound the rows. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { migrate, openDatabase } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import {
  currentUsage,
  MAX_POINTS_PER_VM,
  networkBytesSince,
  pruneUsage,
  recordUsage,
  usageAt,
  usagePoints,
} from "../../../src/core/state/usage.ts";
import { advance, type CounterState, MAX_RATE_GAP_MS, type RawUsage } from "../../../src/core/usage-counters.ts";
import { tempDir } from "../../helpers/binary.ts";

const T0 = Date.parse("2026-03-01T00:00:00Z");
const MIN = 60_000;
const HOUR = 3_600_000;

function reading(at: number, rx: number, instance = "pid1", extra: Partial<RawUsage> = {}): RawUsage {
  return {
    vmName: "vm-a",
    at,
    instance,
    raw: { cpuNs: rx * 10, rxBytes: rx, txBytes: rx * 2, readBytes: rx * 3, writeBytes: rx * 4 },
    cpuCores: null,
    memUsedBytes: 1000,
    memMaxBytes: 2000,
    ...extra,
  };
}

function fold(readings: RawUsage[]): CounterState | null {
  let s: CounterState | null = null;
  for (const r of readings) s = advance(s, r);
  return s;
}

function freshDb(): Database {
  const db = new Database(":memory:", { strict: true });
  migrate(db, MIGRATIONS);
  return db;
}

describe("monotonic counters", () => {
  test("a steady counter adds its differences; the first reading counts what the VM did since it started", () => {
    const s = fold([reading(T0, 100), reading(T0 + MIN, 250), reading(T0 + 2 * MIN, 400)]);
    expect(s?.total).toEqual({ cpuNs: 4000, rxBytes: 400, txBytes: 800, readBytes: 1200, writeBytes: 1600 });
  });

  test("a power cycle (another QEMU process) adds the new raw value, even when it is above the old one", () => {
    // 500 before the restart; the new process counted 900 by the next reading (more than the old 500).
    const s = fold([reading(T0, 100), reading(T0 + MIN, 500), reading(T0 + 2 * MIN, 900, "pid2")]);
    expect(s?.total.rxBytes).toBe(500 + 900);
  });

  test("a counter that goes down with no instance marker is a reset: no loss, no negative usage", () => {
    const s = fold([reading(T0, 100, ""), reading(T0 + MIN, 500, ""), reading(T0 + 2 * MIN, 30, "")]);
    expect(s?.total.rxBytes).toBe(530);
  });

  test("a reading not newer than the last one changes nothing (an engine that replays a pass)", () => {
    const a = fold([reading(T0, 100), reading(T0 + MIN, 500)]);
    expect(advance(a, reading(T0 + MIN, 700))).toBe(a as CounterState);
    expect(advance(a, reading(T0, 900))).toBe(a as CounterState);
  });

  test("Proxmox: a boot time (from uptime) later than the stored one is a restart; drift within the slack is not", () => {
    const pve = (at: number, rx: number, uptimeS: number) => reading(at, rx, "pve1", { uptimeS });
    // 10 s of status-daemon staleness either way is the same process; then a restart 20 s before a reading.
    const s = fold([
      pve(T0, 100, 1000),
      pve(T0 + MIN, 300, 1050),
      pve(T0 + 2 * MIN, 500, 1125),
      pve(T0 + 3 * MIN, 900, 20),
    ]);
    expect(s?.total.rxBytes).toBe(500 + 900);
    // A live migration to another node is a new QEMU process there: the marker (node) changes.
    expect(advance(s, reading(T0 + 4 * MIN, 5000, "pve2", { uptimeS: 5000 })).total.rxBytes).toBe(1400 + 5000);
  });

  test("a rate-reported CPU (Proxmox) is integrated over the gap, capped after an outage", () => {
    const pve = (at: number, cores: number) => reading(at, 0, "n1:1", { cpuCores: cores });
    const s = fold([pve(T0, 0.5), pve(T0 + MIN, 0.5), pve(T0 + MIN + HOUR, 2)]);
    expect(s?.total.cpuNs).toBe(0.5 * MIN * 1e6 + 2 * MAX_RATE_GAP_MS * 1e6);
  });
});

describe("usage storage", () => {
  test("totals survive a reopen of the database (an engine restart) and a VM reboot after it", () => {
    const tmp = tempDir();
    const file = join(tmp.dir, "blockhost.db");
    const first = openDatabase(file);
    recordUsage(first, [reading(T0, 100), reading(T0 + MIN, 400)]);
    first.close();
    // A new engine process reads the stored state: the same QEMU process's counter continues.
    const db = openDatabase(file);
    recordUsage(db, [reading(T0 + 2 * MIN, 600)]);
    recordUsage(db, [reading(T0 + 3 * MIN, 50, "pid2")]);
    expect(currentUsage(db, "vm-a")?.total.rxBytes).toBe(650);
    expect(networkBytesSince(db, "vm-a", T0 + MIN)).toEqual({ rxBytes: 250, txBytes: 500 });
    db.close();
    tmp.cleanup();
  });

  test("minute and hour points roll up at once; memory is averaged over a bucket", () => {
    const db = freshDb();
    const rs: RawUsage[] = [];
    for (let i = 0; i < 120; i++) rs.push(reading(T0 + i * MIN, i * 10, "pid1", { memUsedBytes: i < 60 ? 100 : 300 }));
    recordUsage(db, rs);
    const hours = usagePoints(db, "vm-a", 3600, 0);
    expect(hours.map((p) => [p.at, p.total.rxBytes, p.memUsedBytes])).toEqual([
      [T0, 590, 100],
      [T0 + HOUR, 1190, 300],
    ]);
    expect(usagePoints(db, "vm-a", 60, T0 + 119 * MIN)).toHaveLength(1);
    // Within the day the minute points answer to the minute; further back, the hour points to the hour.
    expect(usageAt(db, "vm-a", T0 + 90 * MIN + 5)).toMatchObject({ rxBytes: 900 });
  });

  test("retention: minute points go after a day, hour points after 90 days, rows per VM stay bounded", () => {
    const db = freshDb();
    const start = T0;
    // 100 days at 1 reading per 10 minutes, pruned every hour as the engine does.
    for (let t = start, i = 0; t < start + 100 * 24 * HOUR; t += 10 * MIN, i++) {
      recordUsage(db, [reading(t, i * 1000)]);
      if (t % HOUR === 0) pruneUsage(db, t);
    }
    const end = start + 100 * 24 * HOUR - 10 * MIN;
    pruneUsage(db, end);
    const fine = usagePoints(db, "vm-a", 60, 0);
    const coarse = usagePoints(db, "vm-a", 3600, 0);
    expect(fine[0]?.at).toBeGreaterThanOrEqual(end - 24 * HOUR);
    expect(fine).toHaveLength(24 * 6 + 1);
    expect(coarse[0]?.at).toBeGreaterThanOrEqual(end - 90 * 24 * HOUR);
    expect(coarse.length).toBeLessThanOrEqual(90 * 24 + 1);
    expect(fine.length + coarse.length).toBeLessThanOrEqual(MAX_POINTS_PER_VM);
    // Totals are counters, not points: pruning never lowers them; 20 days back the hour points answer.
    expect(currentUsage(db, "vm-a")?.total.rxBytes).toBe((100 * 24 * 6 - 1) * 1000);
    const since = end - 20 * 24 * HOUR - 30 * MIN;
    const used = networkBytesSince(db, "vm-a", since).rxBytes;
    expect(used).toBeGreaterThanOrEqual((20 * 24 * 6 + 3) * 1000);
    expect(used).toBeLessThanOrEqual((20 * 24 * 6 + 3 + 6) * 1000);
  });

  test("a destroyed VM's counters go once its last point has aged out", () => {
    const db = freshDb();
    recordUsage(db, [reading(T0, 1)]);
    pruneUsage(db, T0 + 30 * 24 * HOUR);
    expect(currentUsage(db, "vm-a")).not.toBeNull();
    pruneUsage(db, T0 + 91 * 24 * HOUR);
    expect(currentUsage(db, "vm-a")).toBeNull();
  });
});
