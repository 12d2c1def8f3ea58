/** The text `blockhost [COMMAND] --help` prints, rendered from the same command tree as man pages and completions. */
import { type ArgDoc, type CommandNode, placeholder } from "./cli-docs.ts";
import { EXIT } from "./errors.ts";

/** Said once, in the top-level help: what the environment changes and what each exit status means. */
const ENVIRONMENT: Array<[string, string]> = [
  [
    "BLOCKHOST_ROOT",
    "Directory every path hangs off (/etc/blockhost, /var/lib/blockhost, /run/blockhost). " +
      "Unset on a real host; the demo and the tests point it at a temporary directory.",
  ],
  ["BLOCKHOST_DEBUG", "Set to 1 to print the stack trace of an unexpected error."],
  ["NO_COLOR", "Set to anything to turn colour off (colour is only ever used on a terminal)."],
];
const EXIT_CODES: Array<[string, string]> = [
  [String(EXIT.ok), "success (for `is`: yes)"],
  [String(EXIT.failure), "failure: the one-line message says what failed (for `is`: no)"],
  [String(EXIT.usage), "usage error: unknown command or option, missing or malformed argument"],
  [String(EXIT.config), "configuration error: a config file is missing or invalid (systemd does not restart)"],
];

const INDENT = "  ";
const GAP = 3;

/** Word-wrap `text` to `width` columns; the first line is returned unindented, the rest start with `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/** Two columns: terms padded to one width, descriptions wrapped beside them. */
function table(rows: Array<[string, string]>, columns: number): string[] {
  const termWidth = Math.min(Math.max(...rows.map(([t]) => t.length)), 30);
  const descIndent = " ".repeat(INDENT.length + termWidth + GAP);
  const width = Math.max(columns - descIndent.length, 30);
  return rows.map(([term, desc]) => {
    if (!desc) return `${INDENT}${term}`;
    if (term.length > termWidth) return `${INDENT}${term}\n${descIndent}${wrap(desc, width, descIndent)}`;
    return `${INDENT}${term.padEnd(termWidth + GAP)}${wrap(desc, width, descIndent)}`;
  });
}

const flagName = (n: string) => (n.length === 1 ? `-${n}` : `--${n}`);

function optionTerm(a: ArgDoc): string {
  const names = [...a.aliases.filter((x) => x.length === 1), a.name, ...a.aliases.filter((x) => x.length > 1)];
  return names.map(flagName).join(", ") + (a.kind === "boolean" ? "" : ` ${placeholder(a)}`);
}

function describeArg(a: ArgDoc): string {
  const choices = a.kind === "enum" && a.options ? ` One of: ${a.options.join(", ")}.` : "";
  // A positional's usage line already says whether it is needed ([<X>] when optional).
  const mark = a.kind === "positional" ? (a.required ? "" : " (optional)") : a.required ? " (required)" : "";
  return `${a.description}${choices}${mark}`;
}

/** The generated usage line: required options spelled out, the optional ones folded into [options]. */
function usageLines(node: CommandNode): string[] {
  if (node.usage) return node.usage;
  const name = node.path.join(" ");
  if (!node.runnable) return [`${name} <COMMAND>`];
  const parts = [name];
  for (const a of node.args.filter((x) => x.kind === "positional"))
    parts.push(a.required ? placeholder(a) : `[${placeholder(a)}]`);
  for (const a of node.args.filter((x) => x.kind !== "positional" && x.required)) parts.push(optionTerm(a));
  if (node.args.some((x) => x.kind !== "positional" && !x.required)) parts.push("[options]");
  return [parts.join(" ")];
}

/** The help of one command; `node` needs its direct subcommands resolved (commandTree depth 1). */
export function renderHelp(node: CommandNode, columns = 100): string {
  const out: string[] = [wrap(node.description, columns, ""), "", "Usage:"];
  out.push(...usageLines(node).map((u) => `${INDENT}${u}`));
  const positionals = node.args.filter((a) => a.kind === "positional");
  const flags = node.args.filter((a) => a.kind !== "positional");
  if (node.subcommands.length > 0) {
    out.push("", "Commands:");
    out.push(
      ...table(
        node.subcommands.map((s) => [s.path.at(-1)!, s.description]),
        columns,
      ),
    );
  }
  if (positionals.length > 0) {
    out.push("", "Arguments:");
    out.push(
      ...table(
        positionals.map((a) => [placeholder(a), describeArg(a)]),
        columns,
      ),
    );
  }
  out.push("", "Options:");
  const optionRows: Array<[string, string]> = flags.map((a) => [optionTerm(a), describeArg(a)]);
  optionRows.push(["-h, --help", "Show this help"]);
  if (node.path.length === 1) optionRows.push(["-v, --version", "Print the version"]);
  out.push(...table(optionRows, columns));
  if (node.path.length === 1) {
    out.push("", "Environment:", ...table(ENVIRONMENT, columns));
    out.push("", "Exit codes:", ...table(EXIT_CODES, columns));
  }
  if (node.examples.length > 0) out.push("", "Examples:", ...node.examples.map((e) => `${INDENT}${e}`));
  if (node.subcommands.length > 0) {
    const helpOf = ["blockhost", "help", ...node.path.slice(1), "<COMMAND>"].join(" ");
    out.push("", `Run "${helpOf}" for a command's arguments and examples.`);
  }
  return `${out.join("\n")}\n`;
}
