/** Send a setup transaction at most once across crashes (chain/send-once.ts), with the runner's crash points. */
import type { TransactionReceipt } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { sendOnce as sendOnceFor } from "../chain/send-once.ts";
import type { TxRequest } from "../chain/tx.ts";
import { crashPoint, type SetupContext } from "./context.ts";

export type { TxRequest };

/** Send `req` signed by `account` once for `key` (a name unique to this transaction's purpose); returns its receipt. */
export async function sendOnce(
  ctx: SetupContext,
  key: string,
  account: PrivateKeyAccount,
  req: TxRequest,
  doing: string,
): Promise<TransactionReceipt> {
  return await sendOnceFor(
    ctx.access,
    { db: ctx.db, chainId: ctx.access.chain.id },
    `setup:${key}`,
    account,
    req,
    doing,
    { recorded: () => crashPoint(`${key}:recorded`), sent: () => crashPoint(`${key}:sent`) },
  );
}
