/** `blockhost vm usage NAME`: what a VM used over the last hour, day or month (from the engine's samples). */
import { defineCommand } from "citty";
import { now } from "../core/clock.ts";
import { BlockhostError } from "../core/errors.ts";
import { printJson } from "../core/output.ts";
import { openExistingDatabase } from "../core/state/db.ts";
import { currentUsage } from "../core/state/usage.ts";
import { getVm } from "../core/state/vms.ts";
import { formatBytes, USAGE_RANGES, type UsageRange, vmUsageSeries } from "../core/usage-series.ts";
import { vmNameArg } from "./cli-args.ts";

export const usageCommand = defineCommand({
  meta: {
    name: "usage",
    description: "Show a VM's CPU, memory, network and disk use over the last hour, day or month (exit 1: no such VM)",
    examples: ["blockhost vm usage web1", "blockhost vm usage web1 --range month --json"],
  },
  args: {
    name: {
      type: "positional",
      description: "Name of the VM (see blockhost vm list)",
      required: true,
      valueHint: "NAME",
    },
    range: { type: "string", description: `The period: ${USAGE_RANGES.join(", ")} [day]`, valueHint: "RANGE" },
    json: {
      type: "boolean",
      description: "Print JSON: totals for the period and since first sampled, and each bucket's rates",
    },
  },
  run({ args }) {
    const name = vmNameArg(args.name);
    const range = (args.range ?? "day") as UsageRange;
    if (!USAGE_RANGES.includes(range))
      throw new BlockhostError(
        "E_USAGE",
        `--range: expected one of ${USAGE_RANGES.join(", ")}, got ${JSON.stringify(args.range)}`,
      );
    const db = openExistingDatabase();
    try {
      if (!getVm(db, name))
        throw new BlockhostError("E_NOT_FOUND", `no VM named ${JSON.stringify(name)} (see: blockhost vm list)`);
      const series = vmUsageSeries(db, name, range, now().getTime());
      const total = currentUsage(db, name);
      if (args.json)
        return printJson({
          vm_name: name,
          sampled_at: total ? new Date(total.at).toISOString() : null,
          since_first_sample: total?.total ?? null,
          ...series,
        });
      process.stdout.write(summary(name, series, total !== null));
    } finally {
      db.close();
    }
  },
});

function summary(name: string, s: ReturnType<typeof vmUsageSeries>, sampled: boolean): string {
  if (!sampled) return `${name}: no usage recorded yet (the engine samples running VMs; see docs/operator/usage.md)\n`;
  const seconds = s.to - s.from;
  const mems = s.points.map((p) => p.mem).filter((m): m is number => m !== null);
  const memAvg = mems.length ? mems.reduce((a, b) => a + b, 0) / mems.length : 0;
  const u = s.used;
  return [
    `${name}: last ${s.range} (${s.step === 60 ? "1-minute" : "1-hour"} buckets)`,
    `  CPU      ${(u.cpuSeconds / seconds).toFixed(2)} cores on average (${Math.round(u.cpuSeconds)} core-seconds)`,
    `  memory   ${formatBytes(memAvg)} on average of ${formatBytes(s.memMaxBytes)}`,
    `  network  ${formatBytes(u.rxBytes)} in, ${formatBytes(u.txBytes)} out`,
    `  disk     ${formatBytes(u.readBytes)} read, ${formatBytes(u.writeBytes)} written`,
    "",
  ].join("\n");
}
