/** Parameter schemas shared by several agent action families. */
import { paths } from "../../core/paths.ts";
import { schemaError, str, type Schema } from "../../core/schema.ts";
import { confinementProblem } from "../../core/fs.ts";

/** Parameter schemas shared by several action families. */

/** One argv element handed to a program: printable ASCII, no newline, no NUL. */
export const printableArg = str(/^[\x20-\x7e]{1,4096}$/, "printable text without newlines (1..4096 chars)", 4096);

/**
 * An existing regular file confined under one of `bases()` (evaluated per call, so tests can move
 * the root), checked component by component without following symlinks.
 */
export function confinedFile(bases: () => string[]): Schema<string> {
  return {
    get describe() {
      return `an existing regular file under ${bases().join(" or ")} (no symlinks)`;
    },
    parse(v, path = "") {
      if (typeof v !== "string" || v.length > 4096) throw schemaError(path, "an absolute file path");
      const problem = confinementProblem(v, bases());
      if (problem) throw schemaError(path, `a file under ${bases().join(" or ")} (${problem})`);
      return v;
    },
  };
}

/**
 * Where client images the agent may read live: the service's state dir (not `<root>/tmp`, where
 * any user could leave a file). The agent opens them itself (staging.ts); this early check only
 * gives a clear schema error.
 */
export const imageBases = () => [paths.stateDir];
