/** docs/reference/cli.md from the citty command tree: the same definitions `--help` and the man pages render. */
import { type ArgDoc, type CommandNode, commandTree, placeholder, walk } from "../../src/core/cli-docs.ts";
import { main } from "../../src/main.ts";
import { code, slug, table } from "./markdown.ts";

const flag = (a: ArgDoc) =>
  a.kind === "positional"
    ? placeholder(a)
    : [a.name, ...a.aliases].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(", ") +
      (a.kind === "boolean" ? "" : ` ${placeholder(a)}`);

function usage(node: CommandNode): string[] {
  if (node.usage) return node.usage;
  const parts = [node.path.join(" ")];
  if (node.subcommands.length > 0 && !node.runnable) parts.push("COMMAND");
  for (const a of node.args) {
    if (a.kind === "positional") parts.push(a.required ? placeholder(a) : `[${placeholder(a)}]`);
  }
  if (node.args.some((a) => a.kind !== "positional")) parts.push("[OPTIONS]");
  return [parts.join(" ")];
}

function section(node: CommandNode): string {
  const out = [`## ${node.path.join(" ")}`, "", node.description || "", ""];
  out.push("```", ...usage(node), "```", "");
  if (node.subcommands.length > 0)
    out.push(
      `Subcommands: ${node.subcommands.map((s) => `[${s.path.at(-1)}](#${slug(s.path.join(" "))})`).join(", ")}.`,
      "",
    );
  if (node.args.length > 0)
    out.push(
      table(
        ["argument", "what"],
        node.args.map((a) => [
          code(flag(a)),
          a.description + (a.required && a.kind !== "positional" ? " (required)" : ""),
        ]),
      ),
    );
  if (node.examples.length > 0) out.push("Examples:", "", "```", ...node.examples, "```", "");
  return out.join("\n");
}

export async function cliPage(): Promise<string> {
  const tree = await commandTree(main);
  const nodes = [...walk(tree)];
  return [
    "# Command line",
    "",
    "Every command of the one `blockhost` binary, as `blockhost COMMAND --help` and `man blockhost-COMMAND` show it.",
    "Exit codes are listed in [errors.md](errors.md).",
    "",
    ...nodes
      .slice(1)
      .map((n) => `${"  ".repeat(n.path.length - 2)}- [${n.path.slice(1).join(" ")}](#${slug(n.path.join(" "))})`),
    "",
    ...nodes.map(section),
  ].join("\n");
}
