/** Step `backend`: the chosen hypervisor's bridge and storage prerequisites. */
import { hypervisorFor } from "./hypervisor.ts";
import type { SetupStep } from "./types.ts";

export const backend: SetupStep = {
  name: "backend",
  title: "hypervisor checks",
  run: (ctx) => hypervisorFor(ctx.file.backend).check(ctx),
};
