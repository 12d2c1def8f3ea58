/** Running the VM lifecycle jobs (power, reinstall, destroy by name): the only code that calls the backend for them. */
import type { Database } from "bun:sqlite";
import { iso, now } from "../core/clock.ts";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import type { Job } from "../core/state/jobs.ts";
import { getVm, updateVm, type VmRecord } from "../core/state/vms.ts";
import type { Provisioner } from "../provision/context.ts";
import { destroyVm, ref } from "../provision/lifecycle.ts";
import { reinstallVm } from "../provision/reinstall.ts";
import { jobKey } from "./events.ts";
import { sameAddress } from "./nft.ts";
import type { JobQueue } from "./queue.ts";
import { checkVmAction, type PowerOp, type VmAction } from "./vm-requests.ts";

export interface VmJobContext {
  db: Database;
  provisioner: Provisioner;
  queue: JobQueue;
  /** The current holder of an access NFT (ownerOf); absent where no chain is reachable (CLI runs). */
  holderOf?: (tokenId: number) => Promise<string | null>;
}

/** What the hypervisor should say after each power operation (the dry-run backend reports nothing). */
const AFTER: Record<PowerOp, string> = { start: "running", shutdown: "stopped", reboot: "running", off: "stopped" };

/** The customer must still hold the NFT when the job runs, not only when it was asked for. */
async function checkHolder(ctx: VmJobContext, vm: VmRecord, by: string): Promise<void> {
  if (!by.startsWith("wallet:") || !ctx.holderOf) return;
  const wallet = by.slice("wallet:".length);
  if (vm.nft_token_id === null)
    throw new BlockhostError("E_AUTH_DENIED", `${vm.vm_name} has no access NFT yet`, { reason: "not-holder" });
  const holder = await ctx.holderOf(vm.nft_token_id);
  if (!holder) throw new BlockhostError("E_CHAIN", `cannot read the holder of NFT #${vm.nft_token_id}; try again`);
  if (!sameAddress(holder, wallet))
    throw new BlockhostError("E_AUTH_DENIED", `${wallet} no longer holds the access NFT of ${vm.vm_name}`, {
      reason: "not-holder",
    });
}

/** Record the hypervisor's power state on the VM row (the panel and the admin list read it, not the hypervisor). */
export async function recordPower(p: Provisioner, name: string, expected: string): Promise<string> {
  const vm = getVm(p.db, name);
  if (!vm) return expected;
  const state = (await p.backend.powerState?.(ref(vm)).catch(() => null)) ?? expected;
  const fresh = getVm(p.db, name)!;
  updateVm(p.db, name, { extra: { ...fresh.extra, power: state, power_at: iso(now()) } });
  return state;
}

async function power(p: Provisioner, vm: VmRecord, op: PowerOp): Promise<void> {
  const r = ref(vm);
  if (op === "start") {
    await p.backend.start(r, p.say);
    await p.backend.restoreNetwork(r, p.say);
  } else if (op === "shutdown") await p.backend.shutdown(r, p.say);
  else if (op === "reboot") await p.backend.reboot(r, p.say);
  else await p.backend.kill(r, p.say);
}

/** Run one lifecycle job; throws on failure (the caller records it). */
export async function runVmJob(ctx: VmJobContext, job: Job): Promise<void> {
  const name = String(job.payload.vm);
  const action = String(job.payload.action) as VmAction;
  const by = String(job.payload.by ?? "cli");
  const started = Date.now();
  const p = ctx.provisioner;
  if (action === "destroy") {
    const done = await destroyVm(p, name);
    logEvent("vm.destroy", { vm: name, by, destroyed: done, ms: Date.now() - started });
    return;
  }
  // The same checks as at request time: the subscription may have lapsed while the job waited.
  checkVmAction(ctx.db, { vm: name, action });
  const vm = getVm(ctx.db, name)!;
  await checkHolder(ctx, vm, by);
  if (action === "reinstall") {
    await reinstallVm(p, name, String(job.payload.os ?? ""));
    ctx.queue.enqueue("gecos", jobKey.gecos(name), { vm: name }, { rerun: true });
    await recordPower(p, name, "running");
  } else {
    await power(p, vm, action);
    await recordPower(p, name, AFTER[action]);
  }
  logEvent(`vm.${action === "reinstall" ? "reinstall" : "power"}`, {
    vm: name,
    action,
    by,
    ms: Date.now() - started,
    ...(p.backend.simulated ? { dry_run: true } : {}),
  });
}
