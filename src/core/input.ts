/** Read secret CLI inputs from a file or stdin, never from argv. */
import { readFileSync, statSync } from "node:fs";
import { BlockhostError } from "./errors.ts";

/**
 * Read a CLI input that may be secret from a FILE, or from stdin when the name is "-".
 * Secrets never come from argv (visible in /proc to every user). Refuses non-regular files
 * and anything over `maxBytes`; errors name the file and what it was for.
 */
export async function readInput(file: string, what: string, maxBytes = 1 << 20): Promise<Uint8Array> {
  if (file === "-") {
    const bytes = await Bun.stdin.bytes();
    if (bytes.length > maxBytes)
      throw new BlockhostError("E_INVALID_INPUT", `${what} on stdin is larger than ${maxBytes} bytes`);
    return bytes;
  }
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new BlockhostError("E_INVALID_INPUT", `${file}: not a regular file (${what})`);
    if (st.size > maxBytes)
      throw new BlockhostError("E_INVALID_INPUT", `${file}: larger than ${maxBytes} bytes (${what})`);
    return readFileSync(file);
  } catch (e) {
    if (e instanceof BlockhostError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new BlockhostError("E_NOT_FOUND", `${file}: no such file (${what})`);
    throw new BlockhostError("E_IO", `${file}: cannot read ${what} (${code ?? (e as Error).message})`);
  }
}

/** readInput as UTF-8 text, refusing invalid sequences. */
export async function readTextInput(file: string, what: string, maxBytes?: number): Promise<string> {
  const bytes = await readInput(file, what, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BlockhostError("E_INVALID_INPUT", `${file === "-" ? "stdin" : file}: ${what} is not UTF-8 text`);
  }
}

/** At most one of several inputs may be stdin ("-"). */
export function assertOneStdin(...files: Array<string | undefined>): void {
  if (files.filter((f) => f === "-").length > 1)
    throw new BlockhostError("E_USAGE", "only one input can be read from stdin (-)");
}

/** Exactly one of the named options must be given; returns its name. */
export function exactlyOne<K extends string>(args: Partial<Record<K, unknown>>, ...names: K[]): K {
  const given = names.filter((n) => args[n] !== undefined);
  if (given.length !== 1) {
    throw new BlockhostError(
      "E_USAGE",
      `give exactly one of ${names.map((n) => `--${n}`).join(", ")}${given.length ? ` (got ${given.map((n) => `--${n}`).join(" and ")})` : ""}`,
    );
  }
  return given[0]!;
}
