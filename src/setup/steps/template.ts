/** Step `template`: ask the backend to build its VM template when it needs one (dry-run needs none). */
import { hypervisorFor } from "./hypervisor.ts";
import type { SetupStep } from "./types.ts";

export const template: SetupStep = {
  name: "template",
  title: "VM template",
  run: (ctx) => hypervisorFor(ctx.file.backend).ensureTemplate(ctx),
};
