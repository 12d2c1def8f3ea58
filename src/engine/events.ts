import type { Database } from "bun:sqlite";
import { decodeEventLog, type Log } from "viem";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { logEvent } from "../core/log.ts";
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
    let ev;
    try {
      ev = decodeEventLog({ abi: blockhostSubscriptionsAbi, data: log.data, topics: log.topics as never, strict: true });
    } catch {
      logEvent("engine.log_undecodable", { tx: log.transactionHash, index: log.logIndex });
      continue;
    }
    const where = { tx: log.transactionHash, block: String(log.blockNumber) };
    switch (ev.eventName) {
      case "SubscriptionCreated": {
        const a = ev.args;
        const sub = Number(a.subscriptionId);
        db.query(`INSERT INTO subscriptions (chain_id, subscription_id, subscriber, plan_id, expires_at, cancelled, user_encrypted, block_number, tx_hash)
          VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8)
          ON CONFLICT(chain_id, subscription_id) DO UPDATE SET subscriber = ?3, plan_id = ?4, expires_at = ?5, user_encrypted = ?6, block_number = ?7, tx_hash = ?8`)
          .run(chainId, sub, a.subscriber, Number(a.planId), Number(a.expiresAt), a.userEncrypted, Number(log.blockNumber), log.transactionHash!);
        queue.enqueue("provision", jobKey.provision(chainId, sub), { subscription_id: sub });
        logEvent("engine.subscription_created", { subscription: sub, subscriber: a.subscriber, expires_at: Number(a.expiresAt), ...where });
        break;
      }
      case "SubscriptionExtended": {
        const sub = Number(ev.args.subscriptionId);
        db.query("UPDATE subscriptions SET expires_at = MAX(expires_at, ?) WHERE chain_id = ? AND subscription_id = ?").run(Number(ev.args.newExpiresAt), chainId, sub);
        queue.enqueue("sync", jobKey.sync(chainId, sub), { subscription_id: sub }, { rerun: true });
        logEvent("engine.subscription_extended", { subscription: sub, new_expires_at: Number(ev.args.newExpiresAt), ...where });
        break;
      }
      case "SubscriptionCancelled": {
        const sub = Number(ev.args.subscriptionId);
        db.query("UPDATE subscriptions SET cancelled = 1 WHERE chain_id = ? AND subscription_id = ?").run(chainId, sub);
        queue.enqueue("destroy", jobKey.destroy(chainId, sub), { subscription_id: sub });
        logEvent("engine.subscription_cancelled", { subscription: sub, ...where });
        break;
      }
      default:
        logEvent("engine.contract_event", { event: ev.eventName, ...where });
    }
  }
}
