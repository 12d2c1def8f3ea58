/** Markdown helpers for the generated reference: tables, code spans and schema flattening. */
import type { Schema } from "../../src/core/schema.ts";

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens (duplicates get -1, -2…). */
export const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");

/** A table cell: pipes escaped, newlines folded (Markdown tables are one line per row). */
export const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

/** A code span that survives backticks inside it. */
export const code = (text: string): string => (text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``);

export function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return "_none_\n";
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return `${[line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n")}\n`;
}

/** One documented key of a schema: its dotted path, whether it must be present, what it accepts, its default. */
export interface KeyDoc {
  key: string;
  required: boolean;
  expected: string;
  fallback?: unknown;
}

const isOptional = (s: Schema<unknown>): boolean => (s as { optional?: boolean }).optional === true;

/** Flatten an object schema into one row per leaf key (objects nest as `a.b`, lists as `a[]`, maps as `a.<key>`). */
export function keysOf(s: Schema<unknown>, prefix = "", required = true, fallback?: unknown): KeyDoc[] {
  const doc = s.doc;
  if (doc?.kind === "default") return keysOf(doc.inner, prefix, false, doc.fallback);
  if (doc?.kind === "refine" && doc.inner.doc?.kind === "object") {
    const rule: KeyDoc = { key: prefix || "(the whole file)", required, expected: `rule: ${s.describe}` };
    return [rule, ...keysOf(doc.inner, prefix, required, fallback)];
  }
  if (doc?.kind === "object") {
    const rows: KeyDoc[] = [];
    for (const [k, sub] of Object.entries(doc.shape)) {
      const path = prefix ? `${prefix}.${k}` : k;
      const subRequired = !isOptional(sub) && sub.doc?.kind !== "default";
      const nested =
        sub.doc?.kind === "object" || (sub.doc?.kind === "default" && sub.doc.inner.doc?.kind === "object");
      if (nested) {
        rows.push({ key: path, required: subRequired, expected: "a mapping (keys below)", ...withDefaultOf(sub) });
        rows.push(...keysOf(sub, path, subRequired));
      } else rows.push(...keysOf(sub, path, subRequired));
    }
    return rows;
  }
  if (doc?.kind === "array" && doc.inner.doc?.kind === "object") {
    return [
      { key: prefix, required, expected: s.describe.replace(/, each .*$/, ", each:"), ...withFallback(fallback) },
      ...keysOf(doc.inner, `${prefix}[]`, true),
    ];
  }
  if (doc?.kind === "record" && doc.inner.doc?.kind === "object") {
    return [
      { key: prefix, required, expected: s.describe.replace(/ \(.*\)$/, ""), ...withFallback(fallback) },
      ...keysOf(doc.inner, `${prefix}.<key>`, true),
    ];
  }
  return [{ key: prefix, required, expected: s.describe, ...withFallback(fallback) }];
}

const withFallback = (fallback: unknown) => (fallback === undefined ? {} : { fallback });
const withDefaultOf = (s: Schema<unknown>) => (s.doc?.kind === "default" ? withFallback(s.doc.fallback) : {});

/** The rows of a key table: key, required, accepts, default. */
export function keyTable(s: Schema<unknown>, prefix = ""): string {
  const rows = keysOf(s, prefix).filter((k) => k.key !== "");
  return table(
    ["key", "required", "accepts", "default"],
    rows.map((k) => [
      code(k.key),
      k.required ? "yes" : "",
      k.expected,
      k.fallback === undefined ? "" : code(JSON.stringify(k.fallback)),
    ]),
  );
}
