/** The JSDoc line above a declaration in a source file, for reference pages whose text lives in comments. */
import { readFileSync } from "node:fs";

/** `/** text *\/` followed by a line matching `decl` (with one capture group: the name) → name → text. */
export function commentsBefore(file: string, decl: RegExp): Map<string, string> {
  const src = readFileSync(file, "utf8");
  const out = new Map<string, string>();
  const re = new RegExp(String.raw`/\*\*((?:[^*]|\*(?!/))*)\*/\s*` + decl.source, "g");
  for (const m of src.matchAll(re)) {
    const text = m[1]!
      .split("\n")
      .map((l) => l.replace(/^\s*\*\s?/, "").trim())
      .filter(Boolean)
      .join(" ");
    out.set(m[2]!, text);
  }
  return out;
}
