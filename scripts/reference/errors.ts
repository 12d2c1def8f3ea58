/** docs/reference/errors.md from ERROR_CODES and EXIT (src/core/errors.ts). */
import { join } from "node:path";
import { ERROR_CODES, EXIT } from "../../src/core/errors.ts";
import { code, table } from "./markdown.ts";
import { commentsBefore } from "./source-docs.ts";

const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  ok: "success",
  failure: "the command failed (the message says why)",
  usage: "bad arguments or input: nothing was changed",
  config: "a configuration file is missing or invalid (EX_CONFIG: systemd stops restarting the unit)",
};

export function errorsPage(repo: string): string {
  const notes = commentsBefore(join(repo, "src/core/errors.ts"), /(E_[A-Z_]+):/);
  const exits = table(
    ["exit", "name", "meaning"],
    Object.entries(EXIT).map(([name, n]) => [String(n), name, EXIT_MEANING[name as keyof typeof EXIT]]),
  );
  const codes = table(
    ["code", "exit", "job retried", "notes"],
    Object.entries(ERROR_CODES).map(([c, spec]) => [
      code(c),
      String(EXIT[spec.exit]),
      spec.permanent ? "no (the job becomes `dead`)" : "yes, with backoff",
      notes.get(c) ?? "",
    ]),
  );
  return [
    "# Error codes and exit codes",
    "",
    "Every failure is one `BlockhostError` with a stable code; scripts and the agent protocol match on the code,",
    "never on the message. `--json` output and agent replies carry it as `code`.",
    "",
    "## Exit codes",
    "",
    exits,
    "## Error codes",
    "",
    codes,
  ].join("\n");
}
