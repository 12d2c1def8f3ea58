/** Converge chain, database and hypervisor so no missed event leaks or loses a VM. */
import { getAbiItem, type Log } from "viem";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { isRevert } from "../chain/errors.ts";
import { oneLine } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { jobState } from "../core/state/jobs.ts";
import { knownSubscriptionIds, liveSubscriptionIds } from "../core/state/subscriptions.ts";
import { iso, now } from "../core/clock.ts";
import { executeGc, planGc } from "../provision/gc.ts";
import { listVms, updateVm, vmForSubscription } from "../core/state/vms.ts";
import { type ChainSubscription, readSubscription, type EngineContext } from "./context.ts";
import { applyLogs, jobKey } from "./events.ts";
import { credentialOwner, sameAddress } from "./nft.ts";
import { markProcessed } from "./watcher.ts";

const CREATED = getAbiItem({ abi: blockhostSubscriptionsAbi, name: "SubscriptionCreated" });
/** How many missed subscriptions one pass looks up (the next pass continues). */
const MISSED_PER_PASS = 20;

/** NFT holder changed → record it and queue a GECOS update; retry GECOS that did not stick. */
async function ownership(ctx: EngineContext): Promise<void> {
  for (const vm of listVms(ctx.db).filter((v) => (v.status === "active" || v.status === "suspended") && v.nft_minted && v.nft_token_id !== null)) {
    const owner = await credentialOwner(ctx.access, ctx.settings.nft, vm.nft_token_id!);
    if (owner && !sameAddress(owner, vm.owner_wallet)) {
      updateVm(ctx.db, vm.vm_name, { owner_wallet: owner, gecos_synced: false });
      logEvent("engine.owner_changed", { vm: vm.vm_name, token_id: vm.nft_token_id, owner });
      vm.gecos_synced = false;
    }
    if (!vm.gecos_synced && vm.status === "active") ctx.queue.enqueue("gecos", jobKey.gecos(vm.vm_name), { vm: vm.vm_name }, { rerun: true });
  }
}

/** Expiry and cancellation from the chain, for every VM with a subscription. */
async function expiry(ctx: EngineContext): Promise<void> {
  for (const vm of listVms(ctx.db).filter((v) => v.subscription_id !== null && (v.status === "active" || v.status === "suspended"))) {
    const id = vm.subscription_id!;
    let chain: ChainSubscription;
    try {
      chain = await readSubscription(ctx, id);
    } catch (e) {
      // Gone from the chain (e.g. a reorg deeper than the confirmations): say so; gc still expires it.
      if (isRevert(e) && e.details?.revert === "SubscriptionNotFound") logEvent("engine.vm_without_subscription", { vm: vm.vm_name, subscription: id });
      continue;
    }
    const chainExpiry = iso(new Date(Number(chain.expiresAt) * 1000));
    if (chain.cancelled) ctx.queue.enqueue("destroy", jobKey.destroy(ctx.settings.chainId, id), { subscription_id: id });
    // Extended while suspended (a missed SubscriptionExtended): let the sync job resume it.
    else if (vm.status === "suspended" && Date.parse(chainExpiry) > Date.parse(vm.expires_at)) ctx.queue.enqueue("sync", jobKey.sync(ctx.settings.chainId, id), { subscription_id: id }, { rerun: true });
    else if (chainExpiry !== vm.expires_at) updateVm(ctx.db, vm.vm_name, { expires_at: chainExpiry });
  }
}

/** Paid, live subscriptions whose VM or NFT is missing get their provision job (again). */
function unprovisioned(ctx: EngineContext): void {
  const t = Math.floor(now().getTime() / 1000);
  for (const id of liveSubscriptionIds(ctx.db, ctx.settings.chainId, t)) {
    const vm = vmForSubscription(ctx.db, id);
    if (vm && (vm.status === "destroyed" || vm.nft_minted)) continue;
    const key = jobKey.provision(ctx.settings.chainId, id);
    const state = jobState(ctx.db, key);
    if (state === null || state === "done") ctx.queue.enqueue("provision", key, { subscription_id: id }, { rerun: true });
  }
}

/** Subscriptions the chain has but no log of ours recorded (a missed event): fetch their logs. */
async function missedEvents(ctx: EngineContext, cursor: bigint | null): Promise<void> {
  if (cursor === null) return;
  const client = ctx.access.publicClient;
  const total = Number(await client.readContract({ address: ctx.settings.subscriptions, abi: blockhostSubscriptionsAbi, functionName: "getTotalSubscriptionCount" }));
  const known = knownSubscriptionIds(ctx.db, ctx.settings.chainId);
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((id) => !known.has(id)).slice(0, MISSED_PER_PASS);
  for (const id of missing) {
    const logs = await client.getLogs({ address: ctx.settings.subscriptions, event: CREATED, args: { subscriptionId: BigInt(id) }, fromBlock: ctx.settings.startBlock, toBlock: cursor });
    if (logs.length === 0) continue;
    logEvent("engine.missed_event", { subscription: id, tx: logs[0]!.transactionHash });
    ctx.db.transaction(() => {
      const fresh = logs.filter((l) => markProcessed(ctx.db, ctx.settings.chainId, l as Log));
      applyLogs(ctx.db, ctx.queue, ctx.settings.chainId, fresh as Log[]);
    })();
  }
}

/**
 * Converge chain state, the database and the hypervisor, so a missed event can never leak or
 * lose a VM: NFT holders → GECOS, chain expiry/cancellation → VMs, paid subscriptions → VM +
 * NFT, then gc (expired VMs suspended, destroyed after the grace period).
 */
export async function reconcile(ctx: EngineContext, cursor: bigint | null): Promise<void> {
  const steps: Array<[string, () => Promise<void> | void]> = [
    ["ownership", () => ownership(ctx)],
    ["expiry", () => expiry(ctx)],
    ["missed_events", () => missedEvents(ctx, cursor)],
    ["unprovisioned", () => unprovisioned(ctx)],
    ["gc", async () => {
      const report = await executeGc(ctx.provisioner, planGc(ctx.provisioner, now(), ctx.provisioner.dbConfig.gc_grace_days));
      for (const a of report.actions) logEvent("engine.gc", { vm: a.vm_name, action: a.action, reason: a.reason });
      for (const e of report.errors) logEvent("engine.gc_failed", { vm: e.vm_name, action: e.action, error: e.error });
    }],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (e) {
      logEvent("engine.reconcile_step_failed", { step: name, error: oneLine(e) });
    }
  }
}
