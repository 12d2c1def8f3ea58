/**
 * Usage graphs drawn on the server as SVG (no chart library, no CDN, no script): one chart per
 * measure, scaled by its viewBox so it fits a 360 px screen, each with a data table in a
 * <details> for keyboard and screen-reader users. The customer panel and the admin panel share it.
 */
import type { Child } from "hono/jsx";
import {
  formatBytes,
  type SeriesPoint,
  USAGE_RANGES,
  type UsageRange,
  type UsageSeries,
} from "../core/usage-series.ts";

const W = 600;
const H = 160;
const PAD = { left: 8, right: 8, top: 10, bottom: 22 };
const RANGE_LABEL: Record<UsageRange, string> = { hour: "Last hour", day: "Last day", month: "Last 30 days" };

type Key = Exclude<keyof SeriesPoint, "t">;
interface Measure {
  id: string;
  title: string;
  lines: Array<{ key: Key; label: string; colour: string }>;
  format: (v: number) => string;
}

const rate = (v: number) => `${formatBytes(v)}/s`;
const MEASURES: Measure[] = [
  {
    id: "cpu",
    title: "CPU (cores in use)",
    lines: [{ key: "cpu", label: "CPU", colour: "#2563eb" }],
    format: (v) => v.toFixed(2),
  },
  {
    id: "mem",
    title: "Memory in use",
    lines: [{ key: "mem", label: "memory", colour: "#7c3aed" }],
    format: formatBytes,
  },
  {
    id: "net",
    title: "Network",
    lines: [
      { key: "rx", label: "in", colour: "#059669" },
      { key: "tx", label: "out", colour: "#d97706" },
    ],
    format: rate,
  },
  {
    id: "disk",
    title: "Disk",
    lines: [
      { key: "read", label: "read", colour: "#0891b2" },
      { key: "write", label: "written", colour: "#dc2626" },
    ],
    format: rate,
  },
];

const clock = (t: number, range: UsageRange) => {
  const iso = new Date(t * 1000).toISOString();
  return range === "month" ? iso.slice(5, 10) : `${iso.slice(11, 16)}`;
};

/** Polyline segments of one line, broken where a bucket has no value (a gap in sampling). */
function paths(points: SeriesPoint[], key: Key, from: number, to: number, max: number): string[] {
  const x = (t: number) => PAD.left + ((t - from) / Math.max(1, to - from)) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - v / max) * (H - PAD.top - PAD.bottom);
  const out: string[] = [];
  let cur: string[] = [];
  // A lone reading between gaps is drawn as a short dash, so it shows.
  const flush = () => {
    if (cur.length === 1) {
      const [px, py] = cur[0]!.split(",").map(Number) as [number, number];
      cur.unshift(`${Math.max(PAD.left, px - 4).toFixed(1)},${py.toFixed(1)}`);
    }
    if (cur.length) out.push(cur.join(" "));
    cur = [];
  };
  for (const p of points) {
    const v = p[key];
    if (v === null) flush();
    else cur.push(`${x(p.t).toFixed(1)},${y(v).toFixed(1)}`);
  }
  flush();
  return out;
}

/** Up to `rows` rows: buckets averaged in equal groups, newest first. */
function tableRows(points: SeriesPoint[], rows: number): SeriesPoint[] {
  const size = Math.max(1, Math.ceil(points.length / rows));
  const out: SeriesPoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    const group = points.slice(i, i + size);
    const avg = (k: Key) => {
      const vs = group.map((p) => p[k]).filter((v): v is number => v !== null);
      return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null;
    };
    out.push({
      t: group[0]!.t,
      cpu: avg("cpu"),
      mem: avg("mem"),
      rx: avg("rx"),
      tx: avg("tx"),
      read: avg("read"),
      write: avg("write"),
    });
  }
  return out.reverse();
}

function Chart(props: { m: Measure; s: UsageSeries; prefix: string }) {
  const { m, s } = props;
  const values = s.points.flatMap((p) => m.lines.map((l) => p[l.key])).filter((v): v is number => v !== null);
  const max = Math.max(m.id === "mem" ? s.memMaxBytes : 0, ...values, m.id === "cpu" ? 0.01 : 1);
  const id = `${props.prefix}-${m.id}`;
  return (
    <figure class="usage-chart" id={id}>
      <figcaption id={`${id}-cap`}>
        {m.title}
        {m.lines.map((l) => (
          <span class="legend">
            <svg width="12" height="12" aria-hidden="true">
              <rect width="12" height="12" fill={l.colour} />
            </svg>{" "}
            {l.label}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-cap`}>
        <title>{`${m.title}, ${RANGE_LABEL[s.range].toLowerCase()}; the table below has the figures`}</title>
        <line x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} stroke="#888" />
        <text x={PAD.left} y={PAD.top + 2} font-size="11" fill="currentColor">{`max ${m.format(max)}`}</text>
        <text x={PAD.left} y={H - 6} font-size="11" fill="currentColor">
          {clock(s.from, s.range)}
        </text>
        <text x={W - PAD.right} y={H - 6} font-size="11" fill="currentColor" text-anchor="end">
          {clock(s.to, s.range)}
        </text>
        {m.lines.flatMap((l) =>
          paths(s.points, l.key, s.from, s.to, max).map((d) => (
            <polyline points={d} fill="none" stroke={l.colour} stroke-width="1.5" data-line={l.key} />
          )),
        )}
      </svg>
    </figure>
  );
}

/** The range switch: plain links (keyboard and no-script friendly), the current one marked. */
export function RangeNav(props: { base: string; current: UsageRange }) {
  return (
    <nav aria-label="Period" class="usage-ranges">
      {USAGE_RANGES.map((r) => (
        <a
          class="button secondary"
          href={`${props.base}${props.base.includes("?") ? "&" : "?"}range=${r}`}
          aria-current={r === props.current ? "page" : undefined}
        >
          {RANGE_LABEL[r]}
        </a>
      ))}
    </nav>
  );
}

/** Totals for the range, the four charts and the data table. */
export function UsageCharts(props: { series: UsageSeries; prefix: string; empty?: Child }) {
  const s = props.series;
  const u = s.used;
  if (s.points.length === 0)
    return <p id={`${props.prefix}-empty`}>{props.empty ?? "No usage recorded in this period yet."}</p>;
  const rows = tableRows(s.points, s.range === "hour" ? 60 : s.range === "day" ? 24 : 30);
  const cell = (v: number | null, f: (n: number) => string) => (v === null ? "–" : f(v));
  return (
    <div class="usage" id={`${props.prefix}-usage`}>
      <p id={`${props.prefix}-totals`}>
        {`${RANGE_LABEL[s.range]}: network ${formatBytes(u.rxBytes)} in, ${formatBytes(u.txBytes)} out; disk ${formatBytes(u.readBytes)} read, ${formatBytes(u.writeBytes)} written; CPU ${Math.round(u.cpuSeconds)} core-seconds.`}
      </p>
      {MEASURES.map((m) => (
        <Chart m={m} s={s} prefix={props.prefix} />
      ))}
      <details>
        <summary>The same as a table</summary>
        <div class="table-wrap">
          <table id={`${props.prefix}-table`}>
            <thead>
              <tr>
                <th>From (UTC)</th>
                <th>CPU (cores)</th>
                <th>Memory</th>
                <th>Net in</th>
                <th>Net out</th>
                <th>Disk read</th>
                <th>Disk write</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr>
                  <td>{new Date(p.t * 1000).toISOString().slice(0, 16).replace("T", " ")}</td>
                  <td>{cell(p.cpu, (v) => v.toFixed(2))}</td>
                  <td>{cell(p.mem, formatBytes)}</td>
                  <td>{cell(p.rx, rate)}</td>
                  <td>{cell(p.tx, rate)}</td>
                  <td>{cell(p.read, rate)}</td>
                  <td>{cell(p.write, rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

/** `?range=` of a request, `day` when absent or not one of hour, day, month. */
export function rangeOf(q: string | undefined): UsageRange {
  return USAGE_RANGES.includes(q as UsageRange) ? (q as UsageRange) : "day";
}
