/** The quota period resets on the subscription's own day of the month, clamped in short months. */
import { describe, expect, test } from "bun:test";
import { trafficPeriod } from "../../../src/core/traffic-period.ts";

const t = (s: string) => Date.parse(s);
const iso = (p: { start: number; end: number }) => [new Date(p.start).toISOString(), new Date(p.end).toISOString()];

describe("trafficPeriod", () => {
  test("a mid-month anchor: periods run from that day and time to the same day next month", () => {
    const a = t("2026-03-15T10:20:00Z");
    expect(iso(trafficPeriod(a, t("2026-03-15T10:20:00Z")))).toEqual([
      "2026-03-15T10:20:00.000Z",
      "2026-04-15T10:20:00.000Z",
    ]);
    expect(iso(trafficPeriod(a, t("2026-04-15T10:19:59Z")))).toEqual([
      "2026-03-15T10:20:00.000Z",
      "2026-04-15T10:20:00.000Z",
    ]);
    expect(iso(trafficPeriod(a, t("2026-04-15T10:20:00Z")))).toEqual([
      "2026-04-15T10:20:00.000Z",
      "2026-05-15T10:20:00.000Z",
    ]);
    expect(iso(trafficPeriod(a, t("2027-01-01T00:00:00Z")))).toEqual([
      "2026-12-15T10:20:00.000Z",
      "2027-01-15T10:20:00.000Z",
    ]);
  });

  test("the 31st: the last day of shorter months (Feb 28, leap Feb 29), then the 31st again", () => {
    const a = t("2027-01-31T08:00:00Z");
    expect(iso(trafficPeriod(a, t("2027-02-15T00:00:00Z")))).toEqual([
      "2027-01-31T08:00:00.000Z",
      "2027-02-28T08:00:00.000Z",
    ]);
    expect(iso(trafficPeriod(a, t("2027-03-01T00:00:00Z")))).toEqual([
      "2027-02-28T08:00:00.000Z",
      "2027-03-31T08:00:00.000Z",
    ]);
    expect(iso(trafficPeriod(a, t("2027-04-30T09:00:00Z")))).toEqual([
      "2027-04-30T08:00:00.000Z",
      "2027-05-31T08:00:00.000Z",
    ]);
    const leap = t("2028-01-31T00:00:00Z");
    expect(iso(trafficPeriod(leap, t("2028-02-29T12:00:00Z")))).toEqual([
      "2028-02-29T00:00:00.000Z",
      "2028-03-31T00:00:00.000Z",
    ]);
  });

  test("the 29th and 30th in February, and across a year end", () => {
    expect(iso(trafficPeriod(t("2026-01-29T00:00:00Z"), t("2026-03-01T00:00:00Z")))).toEqual([
      "2026-02-28T00:00:00.000Z",
      "2026-03-29T00:00:00.000Z",
    ]);
    expect(iso(trafficPeriod(t("2026-11-30T00:00:00Z"), t("2027-01-10T00:00:00Z")))).toEqual([
      "2026-12-30T00:00:00.000Z",
      "2027-01-30T00:00:00.000Z",
    ]);
  });

  test("a time before the anchor is in the first period", () => {
    expect(iso(trafficPeriod(t("2026-05-05T00:00:00Z"), t("2026-05-01T00:00:00Z")))).toEqual([
      "2026-05-05T00:00:00.000Z",
      "2026-06-05T00:00:00.000Z",
    ]);
  });
});
