/** `blockhost engine`: the chain watcher, job queue and reconciler service. */
import { defineCommand } from "citty";
import { runEngine } from "./daemon.ts";

/** `blockhost engine`: the chain watcher, job queue and reconciler (a systemd service). */
export default defineCommand({
  meta: {
    name: "engine",
    description:
      "Run the engine service: watch the chain for payments, create, resume and destroy VMs, mint NFTs, retry failures",
    examples: ["blockhost engine", "blockhost engine --once"],
  },
  args: {
    once: { type: "boolean", description: "Exit once caught up with the chain and no job is due" },
  },
  async run({ args }) {
    await runEngine({ once: args.once === true });
    // A parked job's work (e.g. a guest-agent wait) may still hold timers: do not let it delay the exit.
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  },
});
