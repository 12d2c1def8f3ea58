/** `blockhost status`: chain lag, jobs and VMs at a glance. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { printJson } from "../core/output.ts";
import { openExistingDatabase } from "../core/state/db.ts";
import { collectStatus, formatStatus } from "./status.ts";

/**
 * `blockhost status`: chain head, cursor, lag, jobs by state (every failing and dead one), VM counts.
 * It prints what it could read, then exits 78 if a config file does not load, 1 if the chain is unreachable.
 */
export default defineCommand({
  meta: {
    name: "status",
    description: "Show how far the engine is behind the chain, its failing and dead jobs with their errors, VM counts",
    examples: ["blockhost status", "blockhost status --json"],
  },
  args: {
    all: { type: "boolean", description: "List every failing and dead job (default: the newest 20, then a count)" },
    json: { type: "boolean", description: "Print JSON instead of text (always every failing and dead job)" },
  },
  async run({ args }) {
    const db = openExistingDatabase();
    try {
      const report = await collectStatus(db);
      if (args.json) printJson(report);
      else process.stdout.write(`${formatStatus(report, args.all === true)}\n`);
      const config = report.problems.find((p) => p.kind === "config");
      if (config) throw new BlockhostError("E_CONFIG_INVALID", config.message);
      const chain = report.problems.find((p) => p.kind === "chain");
      if (chain) throw new BlockhostError("E_CHAIN", chain.message);
    } finally {
      db.close();
    }
  },
});
