/** The one error type of BlockHost, its codes, and the mapping from code to exit status. */

/** Process exit codes, documented in docs/reference/errors.md. 78 = EX_CONFIG so systemd stops restarting. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

/** What a code means to callers: the exit status, and whether retrying can ever help. */
interface CodeSpec {
  readonly exit: keyof typeof EXIT;
  /** A job failing with this code is not retried (it becomes `dead`, shown by `blockhost status`). */
  readonly permanent: boolean;
}

const usage: CodeSpec = { exit: "usage", permanent: false };
const config: CodeSpec = { exit: "config", permanent: false };
const failure: CodeSpec = { exit: "failure", permanent: false };
const permanentFailure: CodeSpec = { exit: "failure", permanent: true };

/**
 * Every error code. `code` is stable (scripts and the agent protocol match on it); callers decide
 * on the code and `details`, never on the message, which is one line a user can act on.
 */
export const ERROR_CODES = {
  E_USAGE: usage,
  E_CONFIG_INVALID: config,
  E_CONFIG_MISSING: config,
  E_NOT_FOUND: failure,
  E_CONFLICT: failure,
  E_INVALID_INPUT: usage,
  /** A value refused by a schema (core/schema.ts); details: `{ path, expected }`. */
  E_SCHEMA: failure,
  E_IO: failure,
  E_STATE: failure,
  /** A read-only command on a host that has no database yet (nothing was set up). */
  E_NOT_SET_UP: failure,
  E_INTERNAL: failure,
  E_TIMEOUT: failure,
  /** details: `{ binary, code, output }` (output: the last line it printed, to classify the failure). */
  E_COMMAND_FAILED: failure,
  E_AGENT_DENIED: failure,
  E_AGENT_UNAVAILABLE: failure,
  /** details of a framing error: `{ fatal }` (true when the stream cannot be resynced). */
  E_AGENT_PROTOCOL: failure,
  E_AGENT_UNKNOWN_ACTION: failure,
  E_AGENT_INVALID_PARAMS: failure,
  E_AGENT_BUSY: failure,
  /** The agent refused an object that is not BlockHost's (src/agent/scope.ts); details: `{ kind, value }`. */
  E_AGENT_OUT_OF_SCOPE: permanentFailure,
  E_SETUP_COMPLETE: failure,
  /** details of a revert: `{ revert }` (the contract's custom error name, e.g. "SubscriptionNotFound"). */
  E_CHAIN: failure,
  E_CRYPTO: failure,
  /** details: `{ reason }` (a short machine word: bad-signature, expired, …). */
  E_AUTH_DENIED: failure,
  /** A subscription's encrypted payload cannot be used (empty, not ECIES, does not decrypt). */
  E_PAYLOAD_INVALID: permanentFailure,
  /** A job names a subscription the database never recorded. */
  E_SUBSCRIPTION_UNKNOWN: permanentFailure,
  /** A request to seal an NFT's details that can never succeed (no live VM, signer is not the holder). */
  E_CREDENTIAL_REFUSED: permanentFailure,
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class BlockhostError extends Error {
  override readonly name = "BlockhostError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isBlockhostError(e: unknown): e is BlockhostError {
  return e instanceof BlockhostError;
}

/** A BlockhostError with one of these codes. */
export function hasCode(e: unknown, ...codes: ErrorCode[]): e is BlockhostError {
  return isBlockhostError(e) && codes.includes(e.code);
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/** True when retrying cannot fix this failure (decided by its code). */
export function isPermanent(e: unknown): boolean {
  return isBlockhostError(e) && ERROR_CODES[e.code].permanent;
}

/** The single place that maps error codes to process exit codes. */
export function exitCodeFor(e: unknown): number {
  if (isBlockhostError(e)) return EXIT[ERROR_CODES[e.code].exit];
  return EXIT.failure;
}

/** One line for a human; never a stack trace. Unknown errors keep only their message. */
export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}
