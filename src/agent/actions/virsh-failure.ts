/**
 * virsh tells "no such domain", "not running" and "already running" only in its stderr, so a domain
 * operation's failure is classified here, once, into a code the actions decide on: E_NOT_FOUND, or
 * E_STATE with `details.state` ("running" | "not-running"). Other failures pass through unchanged.
 */
import { BlockhostError, type ErrorCode, hasCode } from "../../core/errors.ts";
import { commandFailedWith } from "../run.ts";

const VIRSH_SAYS: readonly [RegExp, ErrorCode, Record<string, string>][] = [
  [/failed to get domain|Domain not found/i, "E_NOT_FOUND", { domain: "missing" }],
  [/domain is not running|not running/i, "E_STATE", { state: "not-running" }],
  [/already active/i, "E_STATE", { state: "running" }],
];

/** The error with a code when virsh said why, else `e` unchanged. */
export function classifyVirshFailure(e: unknown): unknown {
  for (const [said, code, details] of VIRSH_SAYS)
    if (commandFailedWith(e, said))
      return new BlockhostError(code, e.message, { ...e.details, ...details }, { cause: e });
  return e;
}

export const inState = (e: unknown, state: "running" | "not-running") =>
  hasCode(e, "E_STATE") && e.details?.state === state;
export const notRunning = (e: unknown) => inState(e, "not-running");
export const noDomain = (e: unknown) => hasCode(e, "E_NOT_FOUND");
