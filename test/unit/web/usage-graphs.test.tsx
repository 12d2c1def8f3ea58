/** Usage series (rates per bucket, gaps, host sums) and the SVG charts drawn from them. */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { migrate } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { recordUsage } from "../../../src/core/state/usage.ts";
import type { RawUsage } from "../../../src/core/usage-counters.ts";
import { sumSeries, vmUsageSeries } from "../../../src/core/usage-series.ts";
import { UsageCharts } from "../../../src/web/usage-chart.tsx";

const NOW = Date.parse("2026-03-01T12:00:00Z");
const MIN = 60_000;

function db(): Database {
  const d = new Database(":memory:", { strict: true });
  migrate(d, MIGRATIONS);
  return d;
}
/** A VM that receives `rate` bytes/s and uses 1.5 cores, read every minute of the last hour except `gap`. */
function feed(d: Database, vmName: string, rate: number, gap: [number, number] = [0, 0]) {
  const readings: RawUsage[] = [];
  for (let m = 60; m >= 0; m--) {
    if (m > gap[0] && m < gap[1]) continue;
    const s = (60 - m) * 60;
    readings.push({
      vmName,
      at: NOW - m * MIN,
      instance: "p1",
      raw: { cpuNs: s * 1.5e9, rxBytes: s * rate, txBytes: s * 10, readBytes: 0, writeBytes: s * 4096 },
      cpuCores: null,
      memUsedBytes: 512 * 1024 ** 2,
      memMaxBytes: 1024 ** 3,
    });
  }
  recordUsage(d, readings);
}

test("a VM's last hour: one bucket per minute with its rates; used totals over the range", () => {
  const d = db();
  feed(d, "a", 1000);
  const s = vmUsageSeries(d, "a", "hour", NOW);
  expect(s.step).toBe(60);
  expect(s.points.length).toBe(61);
  expect(s.points[0]!.rx).toBeNull(); // the first reading has nothing before it
  expect(s.points.at(-1)).toEqual({
    t: NOW / 1000,
    cpu: 1.5,
    mem: 512 * 1024 ** 2,
    rx: 1000,
    tx: 10,
    read: 0,
    write: 4096,
  });
  expect(s.used.rxBytes).toBe(3600 * 1000);
  expect(s.memMaxBytes).toBe(1024 ** 3);
});

test("a sampling gap longer than three buckets is a gap, not an average; the chart breaks its line there", async () => {
  const d = db();
  feed(d, "a", 1000, [20, 30]);
  const s = vmUsageSeries(d, "a", "hour", NOW);
  const after = s.points.find((p) => p.t === (NOW - 20 * MIN) / 1000);
  expect(after?.rx).toBeNull();
  const html = String(await (<UsageCharts series={s} prefix="vm" />));
  expect(html.match(/<polyline[^>]*data-line="rx"/g)?.length).toBe(2);
  expect(html).toContain('role="img"');
  expect(html).toContain('id="vm-table"');
});

test("the host is the sum of its VMs bucket by bucket", () => {
  const d = db();
  feed(d, "a", 1000);
  feed(d, "b", 3000);
  const host = sumSeries(
    ["a", "b"].map((n) => vmUsageSeries(d, n, "hour", NOW)),
    "hour",
    NOW,
  );
  expect(host.points.at(-1)?.rx).toBe(4000);
  expect(host.points.at(-1)?.cpu).toBe(3);
  expect(host.used.rxBytes).toBe(3600 * 4000);
});

test("no readings: the page says so instead of drawing empty charts", async () => {
  const html = String(
    await (<UsageCharts series={vmUsageSeries(db(), "none", "day", NOW)} prefix="vm" empty="nothing yet" />),
  );
  expect(html).toContain("nothing yet");
  expect(html).not.toContain("<svg");
});
