/** The shape of an agent action: schema, handler and the context it runs in. */
import type { Schema } from "../../core/schema.ts";
import type { BinaryName } from "../binaries.ts";

/** Who is on the other end of the socket, from SO_PEERCRED at accept. */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Bytes written to the child's stdin (never put secrets in argv). */
  readonly stdin?: string | Uint8Array;
  /** Accept these exit codes without failing (default: only 0). */
  readonly okCodes?: readonly number[];
  /** Bytes of stdout kept, when a command's answer may be larger than the runner's cap (one line per VM). */
  readonly outputCap?: number;
}

export interface ActionContext {
  readonly peer: PeerCredentials;
  /** Aborted when the action's timeout fires or the daemon shuts down. */
  readonly signal: AbortSignal;
  /**
   * Run a binary from the agent's table: absolute path, argv array, fixed environment, no shell.
   * Throws BlockhostError E_COMMAND_FAILED (with stderr's last line) on a non-ok exit code.
   */
  run(binary: BinaryName, argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** What a handler returns is merged into `{ ok: true, ... }`. */
export type ActionResult = Record<string, unknown>;

/** One entry of the closed action table: a strict schema and a handler. */
// biome-ignore lint/suspicious/noExplicitAny: the closed table holds actions of every params type
export interface ActionDef<P = any, N extends string = string, R extends ActionResult = ActionResult> {
  readonly name: N;
  readonly params: Schema<P>;
  /** Upper bound for the whole action; the command is killed when it passes. */
  readonly timeoutMs: number;
  /** Refused once <root>/var/lib/blockhost/.setup-complete exists. */
  readonly setupOnly?: boolean;
  handler(params: P, ctx: ActionContext): Promise<R>;
}

/** Declare an action; the literal name and the param/result types flow into the typed client. */
export function defineAction<P, const N extends string, R extends ActionResult>(
  def: ActionDef<P, N, R>,
): ActionDef<P, N, R> {
  return def;
}
