/** Step `ipv6`: the network mode, and for a manual prefix the allocation file VMs take /128s from. */
import { writeConfig, type SetupStep } from "./types.ts";

export const ipv6: SetupStep = {
  name: "ipv6",
  title: "IPv6",
  async run(ctx) {
    const mode = ctx.file.network.ipv6;
    if (mode === "none") {
      await writeConfig(ctx, "network-mode", "none\n");
      return { mode: "none" };
    }
    await writeConfig(
      ctx,
      "broker-allocation.json",
      `${JSON.stringify({ prefix: mode.manual, mode: "manual" }, null, 2)}\n`,
    );
    await writeConfig(ctx, "network-mode", "manual\n");
    return { mode: "manual", prefix: mode.manual };
  },
};
