/** viem errors as one-line E_CHAIN errors (revert name kept in details). */
import { BaseError, ContractFunctionRevertedError, HttpRequestError, TimeoutError, WebSocketRequestError } from "viem";
import { BlockhostError, hasCode } from "../core/errors.ts";

const formatArg = (v: unknown): string =>
  typeof v === "bigint" ? v.toString() : typeof v === "string" ? v : JSON.stringify(v);

/**
 * Turn a viem error into one E_CHAIN line a user can act on: the decoded custom error of a
 * revert (e.g. `PlanNotFound(7)`), or which RPC failed. Never includes request bodies.
 */
export function chainError(e: unknown, doing: string): BlockhostError {
  if (e instanceof BlockhostError) return e;
  if (e instanceof BaseError) {
    const revert = e.walk((x) => x instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (revert) {
      const name = revert.data?.errorName;
      const args = revert.data?.args?.map(formatArg).join(", ") ?? "";
      const reason = name
        ? name === "Error"
          ? String(revert.data?.args?.[0])
          : `${name}(${args})`
        : (revert.reason ?? revert.shortMessage);
      return new BlockhostError(
        "E_CHAIN",
        `${doing}: reverted: ${reason}`,
        { reverted: true, revert: name ?? null },
        { cause: e },
      );
    }
    const net = e.walk(
      (x) => x instanceof HttpRequestError || x instanceof TimeoutError || x instanceof WebSocketRequestError,
    );
    if (net) {
      const url = (net as { url?: string }).url;
      return new BlockhostError(
        "E_CHAIN",
        `${doing}: RPC ${url ? `${url} ` : ""}unreachable or timed out (${net instanceof TimeoutError ? "timeout" : "request failed"})`,
        {},
        { cause: e },
      );
    }
    return new BlockhostError("E_CHAIN", `${doing}: ${e.shortMessage}`, {}, { cause: e });
  }
  return new BlockhostError("E_CHAIN", `${doing}: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
}

/** A call the contract reverted (any reason). */
export const isRevert = (e: unknown): e is BlockhostError => hasCode(e, "E_CHAIN") && e.details?.reverted === true;

/** Await `work`, rethrowing any failure as a one-line E_CHAIN error. */
export async function onChain<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw chainError(e, doing);
  }
}
