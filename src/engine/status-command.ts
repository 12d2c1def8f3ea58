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
    description: "Chain head, cursor and lag; jobs by state with the last error of failing ones; VM counts",
  },
  args: {
    all: { type: "boolean", description: "list every failing and dead job (default: the newest 20, and a count)" },
    json: { type: "boolean", description: "print JSON (every failing and dead job)" },
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
