/** `blockhost engine`: the chain watcher, job queue and reconciler service. */
import { defineCommand } from "citty";
import { runEngine } from "./daemon.ts";

/** `blockhost engine`: the chain watcher, job queue and reconciler (a systemd service). */
export default defineCommand({
  meta: {
    name: "engine",
    description: "Watch the chain, provision/mint/resume/destroy through a durable job queue, reconcile",
  },
  args: {
    once: { type: "boolean", description: "exit once caught up with the chain and no job is due" },
  },
  async run({ args }) {
    await runEngine({ once: args.once === true });
    // A parked job's work (e.g. a guest-agent wait) may still hold timers: do not let it delay the exit.
    setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
  },
});
