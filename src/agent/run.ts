/** How the agent runs commands: absolute paths, argv only, fixed environment, caps and timeouts. */
import { BlockhostError, hasCode } from "../core/errors.ts";
import type { ActionContext, RunOptions, RunResult } from "./actions/types.ts";
import type { BinaryName, BinaryTable } from "./binaries.ts";

/** The whole environment of every command the agent runs: nothing is inherited from the daemon. */
export const FIXED_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  LANG: "C.UTF-8",
});

/** Output kept per stream; the rest is read and discarded so the child never blocks on a full pipe. */
export const OUTPUT_CAP = 1024 * 1024;
/** How long to keep reading output after the command exited (a daemonised child may hold the pipe). */
const STREAM_GRACE_MS = 2_000;

export interface RunnerOptions {
  /** Kill the command after this long even if `signal` has not fired (default: only the signal). */
  readonly timeoutMs?: number;
  readonly outputCap?: number;
}

/**
 * ActionContext.run for one request: resolves the binary through the agent's table (absolute
 * paths only), runs it with an argv array (never a shell) and FIXED_ENV, and kills it with
 * SIGKILL when `signal` aborts (action timeout or shutdown) or `timeoutMs` passes.
 */
export function createRunner(
  table: BinaryTable,
  signal: AbortSignal,
  options: RunnerOptions = {},
): ActionContext["run"] {
  const cap = options.outputCap ?? OUTPUT_CAP;
  return async (binary: BinaryName, argv: readonly string[], runOptions: RunOptions = {}): Promise<RunResult> => {
    const path = table[binary];
    if (!path?.startsWith("/"))
      throw new BlockhostError("E_INTERNAL", `${binary}: no absolute path in the binary table`);
    for (const arg of argv) {
      if (typeof arg !== "string" || arg.includes("\0"))
        throw new BlockhostError("E_INTERNAL", `${binary}: argument with NUL or of wrong type`);
    }
    if (signal.aborted) throw abortError(binary, signal.reason);

    const stdin =
      runOptions.stdin === undefined
        ? "ignore"
        : typeof runOptions.stdin === "string"
          ? new TextEncoder().encode(runOptions.stdin)
          : runOptions.stdin;
    let proc: ReturnType<typeof Bun.spawn>;
    try {
      // detached = setsid: the command leads its own process group, so a kill reaches its children too.
      proc = Bun.spawn({
        cmd: [path, ...argv],
        env: { ...FIXED_ENV },
        cwd: "/",
        stdin,
        stdout: "pipe",
        stderr: "pipe",
        detached: true,
      });
    } catch (e) {
      throw new BlockhostError(
        "E_COMMAND_FAILED",
        `${binary}: cannot start ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }

    let abortReason: unknown;
    const kill = (reason: unknown) => {
      abortReason ??= reason;
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        proc.kill("SIGKILL");
      }
    };
    const onAbort = () => kill(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(
            () =>
              kill(
                new BlockhostError(
                  "E_TIMEOUT",
                  `${binary} did not finish within ${Math.round(options.timeoutMs! / 1000)} s`,
                ),
              ),
            options.timeoutMs,
          )
        : undefined;
    try {
      const out = capture(proc.stdout as ReadableStream<Uint8Array>, runOptions.outputCap ?? cap, "head");
      const err = capture(proc.stderr as ReadableStream<Uint8Array>, cap, "tail");
      const code = await proc.exited;
      // A background grandchild may hold the pipes open; do not wait for it forever.
      const drained = await Promise.race([
        Promise.all([out.text, err.text]).then(() => true),
        Bun.sleep(STREAM_GRACE_MS).then(() => false),
      ]);
      if (!drained) {
        out.cancel();
        err.cancel();
      }
      const [stdout, stderr] = await Promise.all([out.text, err.text]);
      if (abortReason !== undefined) throw abortError(binary, abortReason);
      const ok = runOptions.okCodes ?? [0];
      if (proc.signalCode || !ok.includes(code)) {
        const how = proc.signalCode ? `was killed by ${proc.signalCode}` : `exited ${code}`;
        const last = problemLine(stderr) || lastLine(stdout);
        throw new BlockhostError("E_COMMAND_FAILED", `${binary} ${how}${last ? `: ${last}` : ""}`, {
          binary,
          code,
          output: last,
        });
      }
      return { code, stdout, stderr };
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (timer) clearTimeout(timer);
    }
  };
}

function abortError(binary: string, reason: unknown): BlockhostError {
  if (reason instanceof BlockhostError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError")
    return new BlockhostError("E_TIMEOUT", `${binary} did not finish in time and was killed`);
  return new BlockhostError("E_TIMEOUT", `${binary} was stopped: the action was aborted`);
}

/** Read a stream to its end (or until cancelled), keeping at most `cap` bytes (the first or the last ones). */
function capture(
  stream: ReadableStream<Uint8Array>,
  cap: number,
  keep: "head" | "tail",
): { text: Promise<string>; cancel(): void } {
  const reader = stream.getReader();
  return { text: readCapped(reader, cap, keep), cancel: () => void reader.cancel().catch(() => undefined) };
}

async function readCapped(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  cap: number,
  keep: "head" | "tail",
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value: chunk } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (done) break;
    if (keep === "head") {
      if (size >= cap) continue;
      const part = chunk.subarray(0, cap - size);
      chunks.push(part);
      size += part.length;
    } else {
      chunks.push(chunk);
      size += chunk.length;
      while (size - chunks[0]!.length >= cap) size -= chunks.shift()!.length;
    }
  }
  const all = Buffer.concat(chunks);
  return (keep === "tail" && all.length > cap ? all.subarray(all.length - cap) : all).toString("utf8");
}

/**
 * The line of a failed command's stderr that names the problem. Proxmox tools (pve-common's
 * RESTHandler) print the usage synopsis LAST after a parameter error, preceded by
 * `400 Parameter verification failed.` and one `key: reason` line per bad parameter: those
 * reasons are kept (joined by "; "), the header and the synopsis are not. An unknown option is
 * named on the line before `400 unable to parse option`.
 */
export function problemLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !isUsageSynopsis(l));
  const header = lines.findIndex((l) => /^400 Parameter verification failed\.?$/.test(l));
  const unparsable = lines.findIndex((l) => /^400 unable to parse option/.test(l));
  const reasons = header >= 0 ? lines.slice(header + 1) : unparsable > 0 ? lines.slice(0, unparsable) : [];
  return bounded(reasons.length ? reasons.join("; ") : (lines.at(-1) ?? ""));
}

/** `qm set <vmid> [OPTIONS]`, `qm clone <vmid> <newid> [OPTIONS]`: a command synopsis, not a reason. */
function isUsageSynopsis(line: string): boolean {
  return /^[a-z][\w-]*( [a-z][\w-]*)* (<[\w-]+>|\[OPTIONS\])( <[\w-]+>)*( \[OPTIONS\])?$/.test(line);
}

const bounded = (line: string) => (line.length > 300 ? `${line.slice(0, 300)}…` : line);

/**
 * A command failed and the line naming its problem (problemLine of stderr, else stdout's last) matches `pattern`: how an action tells a tool's expected
 * outcome ("does not exist", "No such process") from a real failure.
 */
export function commandFailedWith(e: unknown, pattern: RegExp): e is BlockhostError {
  return hasCode(e, "E_COMMAND_FAILED") && typeof e.details?.output === "string" && pattern.test(e.details.output);
}

/** `work`'s result, or `fallback` when a command in it failed saying `said` (a tool's "already gone"). */
export async function unlessCommandSays<T>(said: RegExp, fallback: T, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (commandFailedWith(e, said)) return fallback;
    throw e;
  }
}

/** The last non-empty line, trimmed and bounded: what a user needs from a failed command. */
export function lastLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return bounded(lines[lines.length - 1] ?? "");
}
