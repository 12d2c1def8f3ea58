/** `blockhost status`: chain lag, jobs and VMs at a glance. */
import { defineCommand } from "citty";
import { openDatabase } from "../core/state/db.ts";
import { collectStatus, formatStatus } from "./status.ts";

/** `blockhost status`: chain head, cursor, lag, jobs by state (failing ones with their error), VM counts. */
export default defineCommand({
  meta: {
    name: "status",
    description: "Show how far the engine is behind the chain, its failing and dead jobs with their errors, VM counts",
    examples: ["blockhost status", "blockhost status --json"],
  },
  args: { json: { type: "boolean", description: "Print JSON instead of text" } },
  async run({ args }) {
    const db = openDatabase();
    try {
      const report = await collectStatus(db);
      process.stdout.write(`${args.json ? JSON.stringify(report, null, 2) : formatStatus(report)}\n`);
    } finally {
      db.close();
    }
  },
});
