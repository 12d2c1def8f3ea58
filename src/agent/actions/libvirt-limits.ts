/**
 * Live limits on a libvirt VM the agent created: NIC bandwidth (`domiftune`), link state
 * (`domif-setlink`) and disk IO (`blkdeviotune`). Each changes the running domain and its
 * persistent definition, so a limit holds across a power cycle; only numbers reach virsh.
 */
import { int, literal, object } from "../../core/schema.ts";
import { vmPortName } from "../port-guard/rules.ts";
import { domain } from "./libvirt.ts";
import type { ActionContext } from "./types.ts";
import { defineAction } from "./types.ts";

const URI = "qemu:///system";
const virsh = (ctx: ActionContext, argv: string[]) => ctx.run("virsh", ["-q", "-c", URI, ...argv]);

/** Whether the domain runs (live changes need it); a domain libvirt does not know is refused. */
async function running(ctx: ActionContext, name: string): Promise<boolean> {
  const { stdout } = await virsh(ctx, ["domstate", name]);
  const state = stdout.trim().split("\n")[0] ?? "";
  return state === "running" || state === "paused" || state === "in shutdown";
}
const scopeFlags = (live: boolean) => (live ? ["--live", "--config"] : ["--config"]);

/**
 * The VM NIC's average rate both ways, in libvirt's KB/s (1000 bytes/s); 0 removes the limit.
 * Shaping the guest's outbound traffic is tc ingress policing on the tap (excess dropped), its
 * inbound an HTB class: both hold the average within a burst of one second's worth.
 */
export const virshDomiftune = defineAction({
  name: "virsh-domiftune",
  params: object({ name: domain, kbytes_per_s: int(0, 12_500_000) }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const rate = String(p.kbytes_per_s);
    const live = await running(ctx, p.name);
    await virsh(ctx, [
      "domiftune",
      p.name,
      vmPortName(p.name),
      "--inbound",
      rate,
      "--outbound",
      rate,
      ...scopeFlags(live),
    ]);
    return { kbytes_per_s: p.kbytes_per_s, live };
  },
});

/** Link of the VM's NIC up or down (the guest sees its cable pulled); persistent too. */
export const virshDomifSetlink = defineAction({
  name: "virsh-domif-setlink",
  params: object({ name: domain, state: literal("up", "down") }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const live = await running(ctx, p.name);
    const port = vmPortName(p.name);
    if (live) await virsh(ctx, ["domif-setlink", p.name, port, p.state]);
    await virsh(ctx, ["domif-setlink", p.name, port, p.state, "--config"]);
    return { state: p.state, live };
  },
});

/** The VM disk's (vda) IO caps: total operations and bytes per second; 0 removes a cap. */
export const virshBlkdeviotune = defineAction({
  name: "virsh-blkdeviotune",
  params: object({ name: domain, iops: int(0, 1_000_000), bytes_per_s: int(0, 100_000 * 1_048_576) }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const live = await running(ctx, p.name);
    await virsh(ctx, [
      "blkdeviotune",
      p.name,
      "vda",
      "--total-iops-sec",
      String(p.iops),
      "--total-bytes-sec",
      String(p.bytes_per_s),
      ...scopeFlags(live),
    ]);
    return { iops: p.iops, bytes_per_s: p.bytes_per_s, live };
  },
});
