/** Broadcasting the engine's signed bytes: shared by the nonce ledger (gap fills, re-sends) and the minting key's senders. */
import { RpcRequestError, type Hex } from "viem";
import { chainError } from "../chain/errors.ts";
import type { RpcPool } from "../chain/rpc-pool.ts";
import { sendRefusal } from "../chain/tx.ts";

/**
 * Broadcast signed bytes. The pool re-sends the same bytes (same hash) to the next provider on a
 * 5xx, reset or timeout, so a send whose answer was lost is simply known to the node next time.
 * "nonce too low" means the nonce is used: by these bytes (the receipt says so) or by another
 * transaction (the caller settles which).
 */
export async function broadcast(rpc: RpcPool, raw: Hex, doing: string): Promise<"sent" | "nonce-used"> {
  try {
    await rpc.request("eth_sendRawTransaction", [raw]);
    return "sent";
  } catch (e) {
    // Only a node's answer is a refusal; a transport failure's text is not the node's.
    const refusal = e instanceof RpcRequestError ? sendRefusal(e) : null;
    if (refusal) return refusal === "known" ? "sent" : "nonce-used";
    throw chainError(e, doing);
  }
}
