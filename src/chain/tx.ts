/** Send a transaction and wait for its receipt, with one-line errors. */
import type { Abi, Account, ContractFunctionArgs, ContractFunctionName, Hex, TransactionReceipt } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { walletClientFor, type ChainAccess } from "./client.ts";
import { onChain } from "./errors.ts";

/** How long a command waits for its transaction to be mined before giving up (it may still land). */
export const RECEIPT_TIMEOUT_MS = 180_000;

export interface WriteRequest<abi extends Abi, fn extends ContractFunctionName<abi, "nonpayable" | "payable">> {
  address: Hex;
  abi: abi;
  functionName: fn;
  args: ContractFunctionArgs<abi, "nonpayable" | "payable", fn>;
}

/** Wait for a transaction's receipt; a mined revert is an E_CHAIN error naming `doing`. */
export async function waitForSuccess(access: ChainAccess, hash: Hex, doing: string): Promise<TransactionReceipt> {
  const receipt = await onChain(doing, () =>
    access.publicClient.waitForTransactionReceipt({ hash, timeout: RECEIPT_TIMEOUT_MS }),
  );
  if (receipt.status !== "success") throw new BlockhostError("E_CHAIN", `${doing}: transaction ${hash} reverted`);
  return receipt;
}

/**
 * Simulate a contract write (so a revert is reported with its decoded custom error and no gas
 * is spent), send it signed by `account`, and wait for the receipt.
 */
export async function writeAndWait<
  const abi extends Abi,
  fn extends ContractFunctionName<abi, "nonpayable" | "payable">,
>(
  access: ChainAccess,
  account: Account,
  req: WriteRequest<abi, fn>,
  doing: string,
): Promise<{ hash: Hex; receipt: TransactionReceipt; result: unknown }> {
  const wallet = walletClientFor(access, account);
  const hash = await onChain(doing, async () => {
    // The generic request cannot be narrowed through viem's overloads; the call sites are typed by WriteRequest.
    const sim = (await access.publicClient.simulateContract({ ...req, account } as never)) as unknown as {
      request: never;
      result: unknown;
    };
    const h = await wallet.writeContract(sim.request);
    return { h, result: sim.result };
  });
  const receipt = await waitForSuccess(access, hash.h, doing);
  return { hash: hash.h, receipt, result: hash.result };
}
