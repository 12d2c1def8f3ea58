/** `blockhost finalize`: run the setup steps from a setup file, show their state, retry or reset them. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { openDatabase, openExistingDatabase } from "../core/state/db.ts";
import { loadSetupFile } from "./load.ts";
import { resetAll, retryStep, runSetup, prepareSetup, setupStatus, checkStepName, type StepView } from "./runner.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

function describe(s: StepView): string {
  const detail = s.status === "failed" ? ` — ${s.error}` : s.status === "done" ? ` (${s.completed_at})` : "";
  return `${s.status.padEnd(8)} ${s.step.padEnd(13)} ${s.title}${detail}`;
}

const status = defineCommand({
  meta: {
    name: "status",
    description: "Show each setup step's state and, for a failed one, its error",
    examples: ["blockhost finalize status", "blockhost finalize status --json"],
  },
  args: { json: { type: "boolean", description: "Print JSON instead of text" } },
  run({ args }) {
    const steps = setupStatus(openExistingDatabase());
    if (args.json) say(JSON.stringify({ steps }, null, 2));
    else for (const s of steps) say(describe(s));
  },
});

export default defineCommand({
  meta: {
    name: "finalize",
    description: "Set this host up from a setup file, as the web wizard does; run it again to resume after a failure",
    examples: [
      "blockhost finalize --config /root/setup.yaml",
      "blockhost finalize --config /root/setup.yaml --retry mint_nft",
    ],
  },
  args: {
    config: { type: "string", description: "The setup file (YAML, mode 0600, owned by you)", valueHint: "FILE" },
    retry: { type: "string", description: "Run this step again even if it completed", valueHint: "STEP" },
    reset: {
      type: "boolean",
      description: "Mark every step to do again (transactions already sent are found on the chain, not sent twice)",
    },
  },
  subCommands: { status },
  async run({ args }) {
    if (args.retry !== undefined) checkStepName(args.retry);
    if (args.config === undefined && !args.reset)
      throw new BlockhostError("E_USAGE", "--config FILE is required (or: blockhost finalize status)");
    // The setup file is checked before any state exists: a broken one names its key (exit 78) and writes nothing.
    const setup = args.config === undefined ? undefined : loadSetupFile(args.config);
    const db = openDatabase();
    if (args.reset) {
      resetAll(db);
      say("every step is pending again");
    }
    if (args.config === undefined) return;
    const ctx = await prepareSetup(args.config, { db, setup });
    if (args.retry !== undefined) retryStep(db, args.retry);
    await runSetup(ctx, {
      onProgress: (step, state, detail) => {
        // "running" with a detail is a progress line of a long step (the template import or build).
        if (state !== "running" || detail) say(`${state.padEnd(8)} ${step}${detail ? ` — ${detail}` : ""}`);
      },
    });
    say("setup complete");
  },
});
