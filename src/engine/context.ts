/** What the engine's jobs and reconciler work with, and chain reads they share. */
import type { Database } from "bun:sqlite";
import type { PrivateKeyAccount } from "viem/accounts";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import type { ChainAccess } from "../chain/client.ts";
import type { RpcPool } from "../chain/rpc-pool.ts";
import { onChain } from "../chain/errors.ts";
import { getSubscription, type SubscriptionRow } from "../core/state/subscriptions.ts";
import type { Provisioner } from "../provision/context.ts";
import type { RangeCap } from "./log-reader.ts";
import type { FeeCache } from "./fees.ts";
import type { ChainSubscription } from "./chain-reads.ts";
import type { NonceManager } from "./nonces.ts";
import type { ReceiptBatcher } from "./receipts.ts";
import type { JobQueue } from "./queue.ts";
import type { EngineSettings } from "./settings.ts";
import type { CreateSlots } from "./slots.ts";

/** What every job and the reconciler work with. */
export interface EngineContext {
  db: Database;
  queue: JobQueue;
  provisioner: Provisioner;
  access: ChainAccess;
  /** The same providers as `access`, for batches answered by one node and provider health. */
  rpc: RpcPool;
  /** The getLogs range cap for history searches (halves on range errors, grows back). */
  historyCap: RangeCap;
  minter: PrivateKeyAccount;
  nonces: NonceManager;
  fees: FeeCache;
  /** Gas limits of earlier mints by calldata length (see mint.ts mintGas). */
  mintGasBySize: Map<number, bigint>;
  receipts: ReceiptBatcher;
  /** VM creates in flight, bounded by the hypervisor's capacity (`engine.concurrency`). */
  createSlots: CreateSlots;
  serverKey: Uint8Array;
  settings: EngineSettings;
}

export function subscriptionRow(ctx: EngineContext, id: number): SubscriptionRow | null {
  return getSubscription(ctx.db, ctx.settings.chainId, id);
}

/** The subscription as the contract has it now (the source of truth for expiry and cancellation). */
export async function readSubscription(ctx: EngineContext, id: number): Promise<ChainSubscription> {
  const [, subscriber, expiresAt, , cancelled] = await onChain(`read subscription ${id}`, () =>
    ctx.access.publicClient.readContract({
      address: ctx.settings.subscriptions,
      abi: blockhostSubscriptionsAbi,
      functionName: "getSubscription",
      args: [BigInt(id)],
    }),
  );
  return { subscriber, expiresAt, cancelled };
}

/** VM name of a subscription, as the original: blockhost-001, blockhost-1234. */
export const vmNameFor = (subscriptionId: number) => `blockhost-${String(subscriptionId).padStart(3, "0")}`;
