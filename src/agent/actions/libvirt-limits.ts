/**
 * Live limits on a libvirt VM the agent created: the NIC's rate (nftables on its port) and link state
 * (`domif-setlink`, on the running domain and in its definition, so a cut holds across a power
 * cycle). Only numbers and fixed words reach virsh or nft. Disk caps are set once, in the domain XML.
 */
import { int, literal, object } from "../../core/schema.ts";
import { rateBase, setPortRate } from "../port-guard/rate-rules.ts";
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

/**
 * The VM port's rate cap both ways in bytes per second (0 lifts it): nftables rules keyed on the
 * port's fixed name (port-guard/rate-rules.ts), so the cap holds across the VM's power cycles; after
 * a host reboot the engine's traffic duty sets it again.
 */
export const nicRateSet = defineAction({
  name: "nic-rate-set",
  params: object({ name: domain, bytes_per_s: int(0, 12_500_000_000) }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const port = vmPortName(p.name);
    await ctx.run("nft", ["-f", "-"], {
      stdin: `${[...rateBase(), ...setPortRate(port, p.bytes_per_s)].join("\n")}\n`,
    });
    return { port, bytes_per_s: p.bytes_per_s };
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
