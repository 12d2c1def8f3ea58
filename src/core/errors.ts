/**
 * The one error type of BlockHost. `code` is stable (scripts and the agent protocol
 * match on it); `message` is one line a user can act on.
 */
export const ERROR_CODES = {
  E_USAGE: "usage",
  E_CONFIG_INVALID: "config",
  E_CONFIG_MISSING: "config",
  E_NOT_FOUND: "failure",
  E_CONFLICT: "failure",
  E_INVALID_INPUT: "usage",
  E_IO: "failure",
  E_STATE: "failure",
  E_INTERNAL: "failure",
  E_TIMEOUT: "failure",
  E_COMMAND_FAILED: "failure",
  E_AGENT_DENIED: "failure",
  E_AGENT_UNAVAILABLE: "failure",
  E_AGENT_PROTOCOL: "failure",
  E_AGENT_UNKNOWN_ACTION: "failure",
  E_AGENT_INVALID_PARAMS: "failure",
  E_AGENT_BUSY: "failure",
  E_SETUP_COMPLETE: "failure",
  E_CHAIN: "failure",
  E_CRYPTO: "failure",
  E_AUTH_DENIED: "failure",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Process exit codes, documented in the README. 78 = EX_CONFIG so systemd stops restarting. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

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

/** The single place that maps error codes to process exit codes. */
export function exitCodeFor(e: unknown): number {
  if (isBlockhostError(e)) return EXIT[ERROR_CODES[e.code]];
  return EXIT.failure;
}

/** One line for a human; never a stack trace. Unknown errors keep only their message. */
export function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}
