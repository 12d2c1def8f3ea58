/** `blockhost gc`: suspend expired VMs, destroy them after the grace period. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { optionalInt } from "./cli-args.ts";
import { now } from "../core/clock.ts";
import { followMoves } from "../engine/follow-moves.ts";
import { openProvisioner } from "./context.ts";
import { executeGc, type GcReport, planGc } from "./gc.ts";
import { printJson } from "../core/output.ts";

const out = (line: string) => process.stdout.write(`${line}\n`);

/** `blockhost gc`: suspend expired VMs, destroy them after the grace period; a dry run unless --execute. */
export default defineCommand({
  meta: {
    name: "gc",
    description:
      "Suspend expired VMs and destroy them after the grace period (only prints what it would do without --execute)",
    examples: ["blockhost gc", "blockhost gc --execute --grace-days 7"],
  },
  args: {
    execute: { type: "boolean", description: "Carry the suspensions and destructions out" },
    json: { type: "boolean", description: "Print JSON: what was (or would be) done and the errors" },
    "grace-days": {
      type: "string",
      description: "Days a VM stays suspended before it is destroyed (default: gc_grace_days in db.yaml)",
      valueHint: "N",
    },
  },
  async run({ args }) {
    const graceArg = optionalInt(args["grace-days"], "grace-days", 0, 3650);
    const p = openProvisioner({ existing: true });
    const grace = graceArg ?? p.dbConfig.gc_grace_days;
    const actions = planGc(p, now(), grace);
    if (args.json && !args.execute)
      return printJson({ executed: false, dry_run: p.backend.simulated, actions, errors: [] });
    if (!args.execute) {
      for (const a of actions) out(`would ${a.action} ${a.vm_name}: ${a.reason}`);
      out(`${actions.length} action(s); nothing changed (add --execute to carry them out)`);
      return;
    }
    // On a cluster, first record where each VM runs now: every action then goes to that node.
    for (const m of (await followMoves(p)).moved) out(`${m.vm_name} moved from ${m.from ?? "?"} to ${m.to}`);
    const report = await executeGc(p, actions);
    if (args.json) printJson({ executed: true, dry_run: p.backend.simulated, ...report });
    else printGcReport(report, p.backend.simulated);
    if (report.errors.length)
      throw new BlockhostError("E_COMMAND_FAILED", `${report.errors.length} gc action(s) failed (see above)`);
  },
});

function printGcReport(report: GcReport, simulated: boolean): void {
  for (const a of report.actions)
    out(`${a.action === "suspend" ? "suspended" : "destroyed"} ${a.vm_name}: ${a.reason}`);
  for (const e of report.errors) out(`FAILED to ${e.action} ${e.vm_name}: ${e.error}`);
  out(
    `${report.actions.length} done, ${report.errors.length} failed` +
      (simulated ? " (dry-run backend: hypervisor not called)" : ""),
  );
}
