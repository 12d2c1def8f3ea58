/** Converge chain, database and hypervisor so no missed event leaks or loses a VM. */
import { getAbiItem, hexToBigInt, numberToHex, toEventSelector, type Hex } from "viem";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { chainError } from "../chain/errors.ts";
import { oneLine } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { iso, now } from "../core/clock.ts";
import { jobState } from "../core/state/jobs.ts";
import { liveSubscriptionIds, subscriptionBlocks } from "../core/state/subscriptions.ts";
import { executeGc, planGc } from "../provision/gc.ts";
import { followMoves } from "./follow-moves.ts";
import { listVms, updateVm, vmForSubscription } from "../core/state/vms.ts";
import { ownersOf, READ_BATCH, subscriptionsOf } from "./chain-reads.ts";
import { watchMints } from "./mint-watch.ts";
import type { EngineContext } from "./context.ts";
import { applyLogs, jobKey } from "./events.ts";
import { scanLogs } from "./log-reader.ts";
import { sameAddress } from "./nft.ts";
import { markProcessed } from "./watcher.ts";

const CREATED_TOPIC = toEventSelector(getAbiItem({ abi: blockhostSubscriptionsAbi, name: "SubscriptionCreated" }));
/** How many missed subscriptions one pass looks for (the next pass continues). */
const MISSED_PER_PASS = 20;

/** Where each resumable step stopped, per engine (the next pass continues from there). */
interface Progress {
  ownership: number;
  expiry: number;
  missed: { key: string; next: bigint } | null;
}
const progress = new WeakMap<EngineContext, Progress>();
const progressOf = (ctx: EngineContext): Progress => {
  let p = progress.get(ctx);
  if (!p) {
    p = { ownership: 0, expiry: 0, missed: null };
    progress.set(ctx, p);
  }
  return p;
};

/**
 * Visit `items` in slices of READ_BATCH from where the last pass stopped, until done or the
 * deadline: one batched request per slice, never one request per VM.
 */
async function inSlices<T>(
  items: T[],
  at: { get: () => number; set: (n: number) => void },
  deadline: number,
  fn: (slice: T[]) => Promise<void>,
): Promise<void> {
  let i = at.get() < items.length ? at.get() : 0;
  const stop = i;
  do {
    await fn(items.slice(i, i + READ_BATCH));
    i = i + READ_BATCH >= items.length ? 0 : i + READ_BATCH;
    at.set(i);
  } while (i !== stop && Date.now() < deadline);
}

/** NFT holder changed → record it and queue a GECOS update; retry GECOS that did not stick. */
async function ownership(ctx: EngineContext, deadline: number): Promise<void> {
  const vms = listVms(ctx.db).filter(
    (v) => (v.status === "active" || v.status === "suspended") && v.nft_minted && v.nft_token_id !== null,
  );
  if (vms.length === 0) return;
  const p = progressOf(ctx);
  await inSlices(
    vms,
    {
      get: () => p.ownership,
      set: (n) => {
        p.ownership = n;
      },
    },
    deadline,
    async (slice) => {
      const owners = await ownersOf(
        ctx.rpc,
        ctx.settings.nft,
        slice.map((v) => v.nft_token_id!),
      );
      slice.forEach((vm, k) => {
        const owner = owners[k];
        if (owner && !sameAddress(owner, vm.owner_wallet)) {
          updateVm(ctx.db, vm.vm_name, { owner_wallet: owner, gecos_synced: false });
          logEvent("engine.owner_changed", { vm: vm.vm_name, token_id: vm.nft_token_id, owner });
          vm.gecos_synced = false;
        }
        if (!vm.gecos_synced && vm.status === "active")
          ctx.queue.enqueue("gecos", jobKey.gecos(vm.vm_name), { vm: vm.vm_name }, { rerun: true });
      });
    },
  );
}

/** Expiry and cancellation from the chain, for every VM with a subscription. */
async function expiry(ctx: EngineContext, deadline: number): Promise<void> {
  const vms = listVms(ctx.db).filter(
    (v) => v.subscription_id !== null && (v.status === "active" || v.status === "suspended"),
  );
  if (vms.length === 0) return;
  const p = progressOf(ctx);
  await inSlices(
    vms,
    {
      get: () => p.expiry,
      set: (n) => {
        p.expiry = n;
      },
    },
    deadline,
    async (slice) => {
      const subs = await subscriptionsOf(
        ctx.rpc,
        ctx.settings.subscriptions,
        slice.map((v) => v.subscription_id!),
      );
      slice.forEach((vm, k) => {
        const id = vm.subscription_id!;
        const chain = subs[k];
        if (!chain) {
          // Gone from the chain (e.g. a reorg deeper than the confirmations): say so; gc still expires it.
          logEvent("engine.vm_without_subscription", { vm: vm.vm_name, subscription: id });
          return;
        }
        const chainExpiry = iso(new Date(Number(chain.expiresAt) * 1000));
        if (chain.cancelled)
          ctx.queue.enqueue("destroy", jobKey.destroy(ctx.settings.chainId, id), { subscription_id: id });
        // Extended while suspended (a missed SubscriptionExtended): let the sync job resume it.
        else if (vm.status === "suspended" && Date.parse(chainExpiry) > Date.parse(vm.expires_at))
          ctx.queue.enqueue("sync", jobKey.sync(ctx.settings.chainId, id), { subscription_id: id }, { rerun: true });
        else if (chainExpiry !== vm.expires_at) updateVm(ctx.db, vm.vm_name, { expires_at: chainExpiry });
      });
    },
  );
}

/** Paid, live subscriptions whose VM or NFT is missing get their provision job (again). */
function unprovisioned(ctx: EngineContext): void {
  const t = Math.floor(now().getTime() / 1000);
  for (const id of liveSubscriptionIds(ctx.db, ctx.settings.chainId, t)) {
    const vm = vmForSubscription(ctx.db, id);
    if (vm && (vm.status === "destroyed" || vm.nft_minted)) continue;
    const key = jobKey.provision(ctx.settings.chainId, id);
    const state = jobState(ctx.db, key);
    if (state === null || state === "done")
      ctx.queue.enqueue("provision", key, { subscription_id: id }, { rerun: true });
  }
}

/**
 * Subscriptions the chain has but no log of ours recorded (a missed event): their
 * SubscriptionCreated logs are searched for between the blocks of the nearest recorded
 * subscriptions around them (ids grow with the chain), in proven chunks within the range cap,
 * resuming across passes until the search reaches the cursor.
 */
async function missedEvents(ctx: EngineContext, cursor: bigint | null, deadline: number): Promise<void> {
  if (cursor === null) return;
  const total = Number(
    await ctx.access.publicClient.readContract({
      address: ctx.settings.subscriptions,
      abi: blockhostSubscriptionsAbi,
      functionName: "getTotalSubscriptionCount",
    }),
  );
  const known = subscriptionBlocks(ctx.db, ctx.settings.chainId);
  const missing: number[] = [];
  for (let id = 1; id <= total && missing.length < MISSED_PER_PASS; id++) if (!known.has(id)) missing.push(id);
  const p = progressOf(ctx);
  if (missing.length === 0) {
    p.missed = null;
    return;
  }
  let lower = ctx.settings.startBlock;
  for (let id = missing[0]! - 1; id >= 1; id--)
    if (known.has(id)) {
      lower = known.get(id)!;
      break;
    }
  let upper = cursor;
  for (let id = missing.at(-1)! + 1; id <= total; id++)
    if (known.has(id)) {
      upper = known.get(id)! < cursor ? known.get(id)! : cursor;
      break;
    }
  const key = missing.join(",");
  const from = p.missed?.key === key ? p.missed.next : lower;
  const filter = {
    address: ctx.settings.subscriptions,
    topics: [CREATED_TOPIC, missing.map((id) => numberToHex(id, { size: 32 }))] as Array<Hex | Hex[] | null>,
  };
  const scan = await scanLogs(ctx.rpc, ctx.historyCap, filter, { from, to: upper, deadline }, (logs) => {
    for (const l of logs)
      logEvent("engine.missed_event", { subscription: Number(hexToBigInt(l.topics[1]!)), tx: l.transactionHash });
    ctx.db.transaction(() => {
      applyLogs(
        ctx.db,
        ctx.queue,
        ctx.settings.chainId,
        logs.filter((l) => markProcessed(ctx.db, ctx.settings.chainId, l)),
      );
    })();
    return false;
  });
  p.missed = scan.done ? null : { key, next: scan.next };
}

/** Steps that do not read the chain: they still run when the provider is failing. */
const HYPERVISOR_STEPS = new Set(["unprovisioned", "moves", "gc"]);

/**
 * Converge chain state, the database and the hypervisor, so a missed event can never leak or
 * lose a VM: NFT holders → GECOS, chain expiry/cancellation → VMs, paid subscriptions → VM +
 * NFT, VMs Proxmox moved → their node, then gc (expired VMs suspended, destroyed after the grace period).
 */
export async function reconcile(ctx: EngineContext, cursor: bigint | null, deadline = Infinity): Promise<void> {
  const steps: Array<[string, () => Promise<void> | void]> = [
    ["mints", () => watchMints(ctx, deadline)],
    ["ownership", () => ownership(ctx, deadline)],
    ["expiry", () => expiry(ctx, deadline)],
    ["missed_events", () => missedEvents(ctx, cursor, deadline)],
    ["unprovisioned", () => unprovisioned(ctx)],
    ["moves", () => followMoves(ctx.provisioner).then(() => undefined)],
    [
      "gc",
      async () => {
        const report = await executeGc(
          ctx.provisioner,
          planGc(ctx.provisioner, now(), ctx.provisioner.dbConfig.gc_grace_days),
        );
        for (const a of report.actions) logEvent("engine.gc", { vm: a.vm_name, action: a.action, reason: a.reason });
        for (const e of report.errors)
          logEvent("engine.gc_failed", { vm: e.vm_name, action: e.action, error: e.error });
      },
    ],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (e) {
      logEvent("engine.reconcile_step_failed", { step: name, error: oneLine(chainError(e, name)) });
      // The provider is failing: the chain steps wait for the next pass instead of each timing out in turn.
      if (!HYPERVISOR_STEPS.has(name)) {
        const rest = steps.slice(steps.findIndex(([n]) => n === name) + 1).filter(([n]) => HYPERVISOR_STEPS.has(n));
        for (const [n, s] of rest)
          await Promise.resolve(s()).catch((err) =>
            logEvent("engine.reconcile_step_failed", { step: n, error: oneLine(err) }),
          );
        return;
      }
    }
  }
}
