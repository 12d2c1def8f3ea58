/**
 * A traffic quota's period: one month from the subscription's own day of the month (its anchor),
 * in UTC. A period that starts on the 29th–31st falls on the month's last day in shorter months and
 * back on the anchor's day afterwards (anchor Jan 31: Feb 28 or 29, Mar 31, Apr 30, …), the way
 * monthly billing anniversaries do. Pure: the clock is the caller's.
 */

/** The anchor's day and time of day in month `m` (months since year 0), clamped to the month's last day. */
function anniversary(anchor: Date, m: number): number {
  const year = Math.floor(m / 12);
  const month = m - year * 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(anchor.getUTCDate(), last),
    anchor.getUTCHours(),
    anchor.getUTCMinutes(),
    anchor.getUTCSeconds(),
    anchor.getUTCMilliseconds(),
  );
}

/** The period holding `now` (unix ms): `[start, end)`; `end` is the next reset. Before the anchor: the first period. */
export function trafficPeriod(anchorMs: number, nowMs: number): { start: number; end: number } {
  const anchor = new Date(anchorMs);
  const first = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth();
  const at = new Date(Math.max(nowMs, anchorMs));
  let m = at.getUTCFullYear() * 12 + at.getUTCMonth();
  if (anniversary(anchor, m) > at.getTime()) m -= 1;
  m = Math.max(m, first);
  return { start: anniversary(anchor, m), end: anniversary(anchor, m + 1) };
}
