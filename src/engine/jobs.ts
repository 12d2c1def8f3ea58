/** The engine's jobs: provision (VM + NFT), sync, destroy, GECOS update, seal, admin wallet send. */
import type { Hex } from "viem";
import { BlockhostError, isPermanent, oneLine } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { gecosFor } from "../core/gecos.ts";
import { iso, now } from "../core/clock.ts";
import { applyCreate, retryCreate, type CreateRequest } from "../provision/create.ts";
import { destroyVm, ref, resumeVm } from "../provision/lifecycle.ts";
import type { Job } from "../core/state/jobs.ts";
import { getVm, listVms, updateVm, vmForSubscription } from "../core/state/vms.ts";
import { readSubscription, subscriptionRow, vmNameFor, type EngineContext } from "./context.ts";
import { jobKey } from "./events.ts";
import { ensureMinted, intentFromExtra, intentToExtra } from "./mint.ts";
import { watchedExtra } from "./mint-watch.ts";
import { credentialOwner, sameAddress } from "./nft.ts";
import { runVmJob, type VmJobContext } from "./vm-jobs.ts";
import { publicAddress, readPayload, sealConnectionDetails } from "./payload.ts";
import { sealCredential } from "./seal.ts";
import { runSend, type SendPayload } from "./send.ts";
import { planSize } from "./settings.ts";
import type { OsId } from "../core/template/os.ts";

/**
 * SubscriptionCreated → a VM and an NFT, each step idempotent so the job can be re-run after
 * any crash: the VM is found by subscription id (or a half-built one finished), the mint first
 * looks for an earlier mint on the chain, and the token id comes from the receipt.
 */
async function provision(ctx: EngineContext, subscriptionId: number, passedCreate: () => void): Promise<void> {
  const sub = subscriptionRow(ctx, subscriptionId);
  if (!sub) throw new BlockhostError("E_SUBSCRIPTION_UNKNOWN", `subscription ${subscriptionId} was never recorded`);
  const chain = await readSubscription(ctx, subscriptionId);
  if (!sameAddress(chain.subscriber, sub.subscriber)) {
    throw new BlockhostError(
      "E_STATE",
      `subscription ${subscriptionId} on chain belongs to ${chain.subscriber}, the log said ${sub.subscriber} (reorg?)`,
    );
  }
  if (chain.cancelled || sub.cancelled) return;
  // A payload the server cannot read still buys a VM: its NFT carries no details (see payload.ts).
  const { signature, problem, os } = readPayload(ctx.serverKey, sub.user_encrypted);
  const p = ctx.provisioner;
  const size = planSize(ctx.settings, sub.plan_id);
  const req: CreateRequest = {
    name: vmNameFor(subscriptionId),
    ownerWallet: sub.subscriber,
    expiresAt: new Date(Number(chain.expiresAt) * 1000),
    cpu: size.cpu,
    memoryMb: size.memory_mb,
    diskGb: size.disk_gb,
    username: "admin",
    subscriptionId,
    purpose: "subscription",
    ...offeredChoice(ctx, subscriptionId, os),
  };
  let vm = vmForSubscription(ctx.db, subscriptionId);
  if (!vm) vm = await ctx.createSlots.run(() => applyCreate(p, req));
  else if (vm.status === "creating") {
    const halfBuilt = vm;
    vm = await ctx.createSlots.run(() => retryCreate(p, halfBuilt, req));
  } else if (vm.status === "destroyed") return;
  passedCreate();
  if (!vm.nft_minted) {
    const host = publicAddress(vm);
    const name = vm.vm_name;
    const username = vm.username;
    let extra = problem === null ? vm.extra : { ...vm.extra, credential_problem: problem };
    const found = await ensureMinted(
      {
        rpc: ctx.rpc,
        cap: ctx.historyCap,
        nonces: ctx.nonces,
        fees: ctx.fees,
        gasBySize: ctx.mintGasBySize,
        receipts: ctx.receipts,
        publicClient: ctx.access.publicClient,
        minter: ctx.minter,
        nft: ctx.settings.nft,
        chainId: ctx.settings.chainId,
        pollMs: Math.min(1000, ctx.settings.pollIntervalMs),
        repriceMs: ctx.settings.repriceAfterMs,
        recipient: sub.subscriber,
        signature,
        hostname: host,
        username,
        isRecorded: (id) => listVms(ctx.db).some((v) => v.nft_minted && v.nft_token_id === id),
        seal: () => (signature === null ? "0x" : sealConnectionDetails(signature, host, username)),
        save: (intent) => {
          extra = intentToExtra(extra, intent);
          updateVm(ctx.db, name, { extra });
        },
      },
      intentFromExtra(extra),
    );
    updateVm(ctx.db, name, {
      nft_token_id: Number(found.tokenId),
      nft_minted: true,
      nft_minted_at: iso(now()),
      gecos_synced: false,
      extra: watchedExtra(extra, found),
    });
    logEvent("engine.credential", {
      vm: vm.vm_name,
      token_id: String(found.tokenId),
      minted: found.minted,
      recovered: !found.minted,
      ...(problem ? { sealed: false, problem } : {}),
    });
  }
  ctx.queue.enqueue("gecos", jobKey.gecos(vm.vm_name), { vm: vm.vm_name }, { rerun: true });
}

/** The buyer's OS choice when the host offers it; otherwise the default OS (logged: the buyer still gets a server). */
function offeredChoice(ctx: EngineContext, subscriptionId: number, os: string | undefined): { os?: OsId } {
  if (os === undefined) return {};
  const found = ctx.provisioner.offered.find((o) => o.id === os);
  if (!found) logEvent("engine.os_not_offered", { subscription: subscriptionId, os: os.slice(0, 32) });
  return found ? { os: found.id } : {};
}

/** SubscriptionExtended (or a reconcile difference): expiry from the chain, resume if suspended. */
async function sync(ctx: EngineContext, subscriptionId: number): Promise<void> {
  const vm = vmForSubscription(ctx.db, subscriptionId);
  if (!vm || vm.status === "destroyed" || vm.status === "creating") return;
  const chain = await readSubscription(ctx, subscriptionId);
  if (chain.cancelled) {
    ctx.queue.enqueue("destroy", jobKey.destroy(ctx.settings.chainId, subscriptionId), {
      subscription_id: subscriptionId,
    });
    return;
  }
  const expires = new Date(Number(chain.expiresAt) * 1000);
  if (vm.status === "suspended" && expires > now()) await resumeVm(ctx.provisioner, vm.vm_name, expires);
  else updateVm(ctx.db, vm.vm_name, { expires_at: iso(expires) });
}

async function destroy(ctx: EngineContext, subscriptionId: number): Promise<void> {
  const vm = vmForSubscription(ctx.db, subscriptionId);
  if (vm) await destroyVm(ctx.provisioner, vm.vm_name);
}

/** Write `wallet=<holder>,nft=<id>` into the VM user's GECOS through the guest agent. */
async function gecos(ctx: EngineContext, name: string): Promise<void> {
  const vm = getVm(ctx.db, name);
  if (vm?.status !== "active" || !vm.nft_minted || vm.gecos_synced) return;
  const wallet = vm.owner_wallet ?? vm.wallet_address!;
  const r = await ctx.provisioner.backend.guestExec(ref(vm), [
    "/usr/sbin/usermod",
    "-c",
    gecosFor(wallet, vm.nft_token_id),
    vm.username,
  ]);
  if (r.exitcode !== 0) {
    const last = r.stderr.trim().split("\n").at(-1) ?? "";
    throw new BlockhostError("E_COMMAND_FAILED", `usermod in ${name} exited ${r.exitcode}: ${last}`, {
      binary: "usermod",
      code: r.exitcode,
      output: last,
    });
  }
  updateVm(ctx.db, name, { gecos_synced: true });
}

/** Power, reinstall and destroy-by-name: asked for by a person (panel, admin, CLI), run once. */
export const isVmJob = (job: Job): boolean =>
  job.kind === "power" || job.kind === "reinstall" || (job.kind === "destroy" && typeof job.payload.vm === "string");

const vmJobContext = (ctx: EngineContext): VmJobContext => ({
  db: ctx.db,
  provisioner: ctx.provisioner,
  queue: ctx.queue,
  holderOf: (tokenId) => credentialOwner(ctx.access, ctx.settings.nft, tokenId),
});

/** Run one claimed job and record its outcome (done, failed with backoff, or dead). */
export async function runJob(ctx: EngineContext, job: Job, passedCreate: () => void = () => {}): Promise<void> {
  const sub = Number(job.payload.subscription_id);
  try {
    if (isVmJob(job)) await runVmJob(vmJobContext(ctx), job);
    else if (job.kind === "provision") await provision(ctx, sub, passedCreate);
    else if (job.kind === "sync") await sync(ctx, sub);
    else if (job.kind === "destroy") await destroy(ctx, sub);
    else if (job.kind === "gecos") await gecos(ctx, String(job.payload.vm));
    else if (job.kind === "seal")
      await sealCredential(ctx, Number(job.payload.token_id), String(job.payload.payload) as Hex);
    else if (job.kind === "send") await runSend(ctx, job.key, job.payload as unknown as SendPayload);
    ctx.queue.complete(job.id);
    logEvent("engine.job_done", { job: job.key, attempts: job.attempts });
  } catch (e) {
    // A power or reinstall request is not retried behind the customer's back: it fails visibly, once.
    const permanent = isPermanent(e) || isVmJob(job);
    const delay = ctx.queue.fail(job, oneLine(e), permanent);
    logEvent(permanent ? "engine.job_dead" : "engine.job_failed", {
      job: job.key,
      attempts: job.attempts,
      error: oneLine(e),
      ...(permanent ? {} : { retry_in_ms: delay }),
    });
  }
}
