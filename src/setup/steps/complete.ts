/** Step `complete`: admin commands, the admin signature, runtime services, then the `.setup-complete` marker. */
import { existsSync } from "node:fs";
import { RUNTIME_UNITS } from "../../agent/actions/setup.ts";
import { paths } from "../../core/paths.ts";
import { writeConfig, type SetupStep } from "./types.ts";

export const complete: SetupStep = {
  name: "complete",
  title: "enable services and finish",
  async run(ctx) {
    // The marker is written last: if it exists, everything before it was done (and the agent now refuses setup writes).
    if (existsSync(paths.setupComplete)) return { marker: paths.setupComplete, note: "already complete" };
    const knock = ctx.file.admin_commands;
    const commands =
      knock === "none"
        ? {}
        : {
            [knock.knock_name]: {
              action: "knock",
              description: "open ports for the admin",
              params: { allowed_ports: knock.ports, default_duration: knock.duration },
            },
          };
    await writeConfig(ctx, "admin-commands.json", `${JSON.stringify({ commands }, null, 2)}\n`);
    await writeConfig(ctx, "admin-signature.key", `${ctx.adminSignature}\n`);
    const services = await ctx.agent.call("service-enable", { units: [...RUNTIME_UNITS] });
    await ctx.agent.call("setup-complete", {});
    return { services_enabled: services.enabled, services_note: services.skipped, marker: paths.setupComplete };
  },
};
