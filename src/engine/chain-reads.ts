/** Batched contract reads for the reconciler: many eth_calls per HTTP request instead of one request per VM. */
import { decodeFunctionResult, encodeFunctionData, type Abi, type Hex } from "viem";
import { accessCredentialNftAbi } from "../chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../chain/contracts/generated/BlockhostSubscriptions.ts";
import { BlockhostError } from "../core/errors.ts";
import type { RpcBatcher } from "./log-reader.ts";

/** A subscription as the contract holds it. */
export interface ChainSubscription {
  subscriber: Hex;
  expiresAt: bigint;
  cancelled: boolean;
}

/** Calls per JSON-RPC batch (providers commonly accept 50–100). */
export const READ_BATCH = 50;

/**
 * `fn(arg)` on `address` for every arg, READ_BATCH calls per request. A call that reverts (e.g.
 * a token that does not exist) gives null; any other error throws (the pass stops, resumes later).
 */
async function readMany<T>(
  rpc: RpcBatcher,
  address: Hex,
  abi: Abi,
  functionName: string,
  args: readonly bigint[],
): Promise<Array<T | null>> {
  const out: Array<T | null> = [];
  for (let i = 0; i < args.length; i += READ_BATCH) {
    const slice = args.slice(i, i + READ_BATCH);
    const { answers } = await rpc.batch(
      slice.map((a) => ({
        method: "eth_call",
        params: [{ to: address, data: encodeFunctionData({ abi, functionName, args: [a] } as never) }, "latest"],
      })),
    );
    for (const a of answers) {
      if (a.error && !(a.error.code === 3 || /revert/i.test(a.error.message))) {
        throw new BlockhostError("E_CHAIN", `${functionName}: ${a.error.message}`, { rpc_code: a.error.code });
      }
      if (a.error || typeof a.result !== "string" || a.result === "0x") out.push(null);
      else out.push(decodeFunctionResult({ abi, functionName, data: a.result as Hex } as never) as T);
    }
  }
  return out;
}

/** Current holders of credentials (null: the token does not exist or the call failed). */
export async function ownersOf(rpc: RpcBatcher, nft: Hex, tokenIds: readonly number[]): Promise<Array<Hex | null>> {
  return await readMany<Hex>(rpc, nft, accessCredentialNftAbi, "ownerOf", tokenIds.map(BigInt));
}

/** Subscriptions as the contract has them now (null: not found on the chain). */
export async function subscriptionsOf(
  rpc: RpcBatcher,
  subs: Hex,
  ids: readonly number[],
): Promise<Array<ChainSubscription | null>> {
  const rows = await readMany<readonly [bigint, Hex, bigint, bigint, boolean]>(
    rpc,
    subs,
    blockhostSubscriptionsAbi,
    "getSubscription",
    ids.map(BigInt),
  );
  return rows.map((r) => (r ? { subscriber: r[1], expiresAt: r[2], cancelled: r[4] } : null));
}
