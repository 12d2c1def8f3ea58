/** Turn subscription contract logs into recorded subscriptions and jobs. */
import type { Database } from "bun:sqlite";
import { decodeEventLog, type Log } from "viem";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { logEvent } from "../core/log.ts";
import { cancelSubscription, extendSubscription, recordSubscriptionCreated } from "../core/state/subscriptions.ts";
import type { JobQueue } from "./queue.ts";

/** Job keys: one provision and one destroy per subscription, ever; syncs re-arm. */
export const jobKey = {
  provision: (chainId: number, sub: number) => `provision:${chainId}:${sub}`,
  sync: (chainId: number, sub: number) => `sync:${chainId}:${sub}`,
  destroy: (chainId: number, sub: number) => `destroy:${chainId}:${sub}`,
  gecos: (vm: string) => `gecos:${vm}`,
};

/**
 * Turn the contract's logs into database rows and jobs (runs inside the watcher's transaction,
 * so a log is applied exactly once). Undecodable logs are logged and skipped; events other
 * than the three subscription events are only logged.
 */
export function applyLogs(db: Database, queue: JobQueue, chainId: number, logs: Log[]): void {
  for (const log of logs) {
    let ev: ReturnType<typeof decodeEventLog<typeof blockhostSubscriptionsAbi>>;
    try {
      ev = decodeEventLog({
        abi: blockhostSubscriptionsAbi,
        data: log.data,
        topics: log.topics as never,
        strict: true,
      });
    } catch {
      logEvent("engine.log_undecodable", { tx: log.transactionHash, index: log.logIndex });
      continue;
    }
    const where = { tx: log.transactionHash, block: String(log.blockNumber) };
    switch (ev.eventName) {
      case "SubscriptionCreated": {
        const a = ev.args;
        const sub = Number(a.subscriptionId);
        recordSubscriptionCreated(db, chainId, {
          subscription_id: sub,
          subscriber: a.subscriber,
          plan_id: Number(a.planId),
          expires_at: Number(a.expiresAt),
          user_encrypted: a.userEncrypted,
          block_number: Number(log.blockNumber),
          tx_hash: log.transactionHash!,
        });
        queue.enqueue("provision", jobKey.provision(chainId, sub), { subscription_id: sub });
        logEvent("engine.subscription_created", {
          subscription: sub,
          subscriber: a.subscriber,
          expires_at: Number(a.expiresAt),
          ...where,
        });
        break;
      }
      case "SubscriptionExtended": {
        const sub = Number(ev.args.subscriptionId);
        extendSubscription(db, chainId, sub, Number(ev.args.newExpiresAt));
        queue.enqueue("sync", jobKey.sync(chainId, sub), { subscription_id: sub }, { rerun: true });
        logEvent("engine.subscription_extended", {
          subscription: sub,
          new_expires_at: Number(ev.args.newExpiresAt),
          ...where,
        });
        break;
      }
      case "SubscriptionCancelled": {
        const sub = Number(ev.args.subscriptionId);
        cancelSubscription(db, chainId, sub);
        queue.enqueue("destroy", jobKey.destroy(chainId, sub), { subscription_id: sub });
        logEvent("engine.subscription_cancelled", { subscription: sub, ...where });
        break;
      }
      default:
        logEvent("engine.contract_event", { event: ev.eventName, ...where });
    }
  }
}
