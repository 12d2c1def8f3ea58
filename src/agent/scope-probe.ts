/** The host questions scope rules ask, answered through the request's own command runner. */
import type { ActionContext } from "./actions/types.ts";
import type { ScopeProbe } from "./scope.ts";

/** libvirt's own lookup (name, UUID or id), so the answer matches what a virsh action would act on. */
export function scopeProbe(ctx: ActionContext): ScopeProbe {
  return {
    async domainDefined(name) {
      const r = await ctx.run("virsh", ["-q", "-c", "qemu:///system", "domstate", name], { okCodes: [0, 1] });
      return r.code === 0;
    },
  };
}
