/**
 * `npm run bench`: every benchmark, printed as one table. Each module under test/bench/
 * exports functions returning rows; figures are measured here, never asserted in tests.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchRow } from "./agent.ts";

const only = process.argv[2];
const benches: Array<{ module: string; fn: string }> = [
  { module: "./agent.ts", fn: "benchAgentPing" },
  { module: "./engine.ts", fn: "benchEngine" },
  { module: "./finalize.ts", fn: "benchFinalize" },
  { module: "./serve.ts", fn: "benchServe" },
  { module: "./first-paint.ts", fn: "benchFirstPaint" },
  { module: "./admin-funds.ts", fn: "benchAdminScan" },
  { module: "./admin-funds.ts", fn: "benchFundCycle" },
  { module: "./libvirt.ts", fn: "benchLibvirtTemplate" },
  { module: "./libvirt.ts", fn: "benchLibvirtP1" },
  { module: "./guest-boot.ts", fn: "benchGuestBoot" },
  { module: "./reinstall.ts", fn: "benchReinstall" },
  { module: "./tls-swap.ts", fn: "benchTlsSwap" },
  { module: "./cold-start.ts", fn: "benchColdStart" },
  { module: "./console.ts", fn: "benchConsoleEcho" },
  { module: "./usage.ts", fn: "benchUsage" },
];

const rows: BenchRow[] = [];
for (const b of benches) {
  if (only && b.fn !== only) continue;
  if (!existsSync(join(import.meta.dir, b.module))) continue;
  const mod = (await import(b.module)) as Record<string, () => Promise<BenchRow[]>>;
  const fn = mod[b.fn];
  if (!fn) continue;
  process.stderr.write(`running ${b.fn}…\n`);
  rows.push(...(await fn()));
}

const width = Math.max(...rows.map((r) => r.name.length), 9);
const valueWidth = Math.max(...rows.map((r) => r.value.length), 5);
console.log(`| ${"benchmark".padEnd(width)} | ${"value".padStart(valueWidth)} | unit |`);
console.log(`|${"-".repeat(width + 2)}|${"-".repeat(valueWidth + 2)}|------|`);
for (const r of rows) console.log(`| ${r.name.padEnd(width)} | ${r.value.padStart(valueWidth)} | ${r.unit} |`);
