/** docs/reference/agent-actions.md from the agent's closed action table (src/agent/actions/index.ts). */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ACTIONS } from "../../src/agent/actions/index.ts";
import { code, keyTable } from "./markdown.ts";
import { commentsBefore } from "./source-docs.ts";

export function agentActionsPage(repo: string): string {
  const dir = join(repo, "src/agent/actions");
  const notes = new Map<string, string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
    for (const [name, text] of commentsBefore(
      join(dir, f),
      /export const \w+ = defineAction\(\{\s*name: "([a-z0-9-]+)"/,
    ))
      notes.set(name, text);
  }
  const names = [...ACTIONS.keys()].sort();
  const out = [
    "# Agent actions",
    "",
    "The root agent (`blockhost agent`, `/run/blockhost/root-agent.sock`) serves this closed table and nothing else.",
    "Each request is `{action, params}`; params are checked against the schema below (exact keys: an unknown key is",
    "refused with `E_AGENT_INVALID_PARAMS`). Only root and the `blockhost` user may connect. `setup only` actions are",
    "refused once setup is complete. Call one by hand with `blockhost agent call ACTION 'JSON-PARAMS'`.",
    "",
    `${names.length} actions: ${names.map((n) => `[${n}](#${n})`).join(", ")}.`,
    "",
  ];
  for (const name of names) {
    const a = ACTIONS.get(name)!;
    out.push(`## ${name}`, "");
    const note = notes.get(name);
    if (note) out.push(note, "");
    out.push(`Timeout ${a.timeoutMs / 1000} s${a.setupOnly ? "; setup only" : ""}.`, "");
    const hasKeys = a.params.doc?.kind === "object" && Object.keys(a.params.doc.shape).length === 0;
    out.push(
      hasKeys ? "No parameters.\n" : a.params.doc ? keyTable(a.params) : `Parameters: ${code(a.params.describe)}\n`,
    );
  }
  return out.join("\n");
}
