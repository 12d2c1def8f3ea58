/** `blockhost status`: chain lag, jobs and VMs at a glance. */
import { defineCommand } from "citty";
import { openDatabase } from "../core/state/db.ts";
import { collectStatus, formatStatus } from "./status.ts";

/** `blockhost status`: chain head, cursor, lag, jobs by state (failing ones with their error), VM counts. */
export default defineCommand({
  meta: {
    name: "status",
    description: "Chain head, cursor and lag; jobs by state with the last error of failing ones; VM counts",
  },
  args: { json: { type: "boolean", description: "print JSON" } },
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
