/** Man pages and shell completions generated from the citty command tree, the same definitions `--help` renders. */
import type { ArgDef, ArgsDef } from "citty";
import type { AnyCommand } from "./command-def.ts";

declare module "citty" {
  interface CommandMeta {
    /** One or two complete command lines, shown under "Examples" in the help and the man page. */
    examples?: string[];
    /** Usage lines that replace the generated one, for a command whose arguments take several forms. */
    usage?: string[];
  }
}

/** One documented option or positional of a command. */
export interface ArgDoc {
  name: string;
  kind: "boolean" | "value" | "enum" | "positional";
  description: string;
  aliases: string[];
  valueHint?: string;
  options?: string[];
  required: boolean;
}

/** A command with its resolved arguments and (non-hidden) subcommands. */
export interface CommandNode {
  path: string[];
  description: string;
  args: ArgDoc[];
  subcommands: CommandNode[];
  runnable: boolean;
  examples: string[];
  usage?: string[];
}

const resolve = async <T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> =>
  typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;

function argDoc(name: string, a: ArgDef): ArgDoc {
  const kind =
    a.type === "positional" ? "positional" : a.type === "boolean" ? "boolean" : a.type === "enum" ? "enum" : "value";
  const alias = (a as { alias?: string | string[] }).alias;
  return {
    name,
    kind,
    description: a.description ?? "",
    aliases: alias === undefined ? [] : [alias].flat(),
    valueHint: a.valueHint,
    options: (a as { options?: string[] }).options,
    required: kind === "positional" ? a.required !== false && a.default === undefined : a.required === true,
  };
}

/** Resolve the tree to `depth` levels below `cmd` (every lazy subcommand on the way is imported). */
export async function commandTree(
  cmd: AnyCommand,
  path: string[] = ["blockhost"],
  depth = Number.POSITIVE_INFINITY,
): Promise<CommandNode> {
  const meta = await resolve(cmd.meta);
  const args = ((await resolve(cmd.args)) ?? {}) as ArgsDef;
  const subs = (await resolve(cmd.subCommands)) ?? {};
  const subcommands: CommandNode[] = [];
  for (const [name, sub] of depth > 0 ? Object.entries(subs) : []) {
    const def = (await resolve(sub)) as AnyCommand;
    if ((await resolve(def.meta))?.hidden) continue;
    subcommands.push(await commandTree(def, [...path, name], depth - 1));
  }
  return {
    path,
    description: meta?.description ?? "",
    args: Object.entries(args).map(([n, a]) => argDoc(n, a)),
    subcommands,
    runnable: typeof cmd.run === "function",
    examples: meta?.examples ?? [],
    ...(meta?.usage ? { usage: meta.usage } : {}),
  };
}

/** The word a value stands for (`WALLET`, `FILE`); a positional whose hint is lowercase is a literal word (`eth`). */
export function hintOf(a: ArgDoc): string {
  if (a.valueHint) return a.valueHint;
  return a.kind === "enum" && a.options ? a.options.join("|") : a.name.toUpperCase().replace(/-/g, "_");
}

/** How an argument's value is written in a help: `<WALLET>`, or a literal word as is. */
export function placeholder(a: ArgDoc): string {
  const hint = hintOf(a);
  return a.kind === "positional" && /^[a-z]/.test(hint) ? hint : `<${hint}>`;
}

export function* walk(node: CommandNode): Generator<CommandNode> {
  yield node;
  for (const s of node.subcommands) yield* walk(s);
}

// --- man pages (roff, man(7) macros) ---

/** Escape text for roff: backslashes, hyphens, leading dots/quotes, and non-ASCII as \[uXXXX] glyphs. */
const roff = (text: string) =>
  text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/gm, "\\&$1")
    .replace(/[\u0080-\u{10FFFF}]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`);

function synopsis(node: CommandNode): string {
  const parts = [`.B ${node.path.join(" ")}`];
  if (node.subcommands.length > 0 && !node.runnable) parts.push(".I COMMAND");
  for (const a of node.args) {
    if (a.kind === "positional") parts.push(a.required ? `.I ${roff(hintOf(a))}` : `.RI [ ${roff(hintOf(a))} ]`);
    // Quoted: an unquoted space would split the macro argument, and .RB joins its arguments without one.
    else parts.push(`.RB [ "\\-\\-${roff(a.name)}${a.kind === "boolean" ? "" : ` \\fI${roff(hintOf(a))}\\fR`}" ]`);
  }
  return parts.join("\n");
}

function options(node: CommandNode): string {
  const lines: string[] = [];
  for (const a of node.args) {
    const flags =
      a.kind === "positional"
        ? `\\fI${roff(hintOf(a))}\\fR`
        : [a.name, ...a.aliases].map((n) => `\\fB${n.length === 1 ? "-" : "\\-\\-"}${roff(n)}\\fR`).join(", ") +
          (a.kind === "boolean" ? "" : ` \\fI${roff(hintOf(a))}\\fR`);
    const mark = a.kind === "positional" ? "" : a.required ? " (required)" : "";
    lines.push(".TP", flags, roff(a.description || "(no description)") + mark);
  }
  return lines.join("\n");
}

/** One page per top-level command (`blockhost-agent.1`, …) plus `blockhost.1`; nested commands are sections. */
export function manPages(root: CommandNode, version: string, date = "2026-12-01"): Map<string, string> {
  const pages = new Map<string, string>();
  const header = (name: string, description: string) =>
    `.TH ${name.toUpperCase().replace(/-/g, "\\-")} 1 "${date}" "blockhost ${version}" "BlockHost"\n` +
    `.SH NAME\n${roff(name)} \\- ${roff(description || name)}\n`;
  const rootLines = [header("blockhost", root.description), ".SH SYNOPSIS", synopsis(root), ".SH COMMANDS"];
  for (const s of root.subcommands) rootLines.push(".TP", `\\fB${roff(s.path.join(" "))}\\fR(1)`, roff(s.description));
  if (root.args.length > 0) rootLines.push(".SH OPTIONS", options(root));
  rootLines.push(".SH SEE ALSO", root.subcommands.map((s) => `.BR ${s.path.join("-")} (1)`).join(",\n"));
  pages.set("blockhost.1", `${rootLines.join("\n")}\n`);

  for (const top of root.subcommands) {
    const name = top.path.join("-");
    const lines = [header(name, top.description)];
    for (const node of walk(top)) {
      if (node !== top) lines.push(`.SH "${roff(node.path.join(" ").toUpperCase())}"`, roff(node.description));
      else lines.push(".SH SYNOPSIS");
      lines.push(".PP", synopsis(node));
      if (node.args.length > 0) lines.push(node === top ? ".SH OPTIONS" : ".PP", options(node));
      if (node.examples.length > 0) lines.push(".PP", "Examples:", ...node.examples.flatMap((e) => [".IP", roff(e)]));
    }
    lines.push(".SH SEE ALSO", ".BR blockhost (1)");
    pages.set(`${name}.1`, `${lines.join("\n")}\n`);
  }
  return pages;
}

// --- shell completions ---

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

const flagWords = (node: CommandNode) =>
  node.args
    .filter((a) => a.kind !== "positional")
    .flatMap((a) => [a.name, ...a.aliases].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)));
const shellWord = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Every command path below the root, for the shells' "is this word a subcommand?" test. */
const knownPaths = (root: CommandNode) =>
  [...walk(root)]
    .slice(1)
    .map((n) => shellWord(n.path.slice(1).join(" ")))
    .join("|");

/**
 * `_blockhost` for bash and zsh: walk the words typed so far to the deepest known command path, then
 * offer that command's words. The shells differ only in how they declare locals, read the typed words,
 * hold one command's words (`offer`) and hand them to the completion system (`reply`).
 */
function pathWalkFunction(
  root: CommandNode,
  shell: { locals: string[]; eachWord: string[]; offer: (node: CommandNode) => string; reply: string },
): string {
  const cases = [...walk(root)].map(
    (node) => `    ${shellWord(node.path.slice(1).join(" "))}) ${shell.offer(node)} ;;`,
  );
  return `_blockhost() {
${shell.locals.map((l) => `  ${l}`).join("\n")}
${shell.eachWord.map((l) => `  ${l}`).join("\n")}
    next="\${path_:+$path_ }$w"
    case "$next" in
      ${knownPaths(root)}) path_="$next" ;;
    esac
  done
  case "$path_" in
${cases.join("\n")}
  esac
  ${shell.reply}
}`;
}

function bash(root: CommandNode): string {
  const fn = pathWalkFunction(root, {
    locals: [`local cur="\${COMP_WORDS[COMP_CWORD]}" path_="" next i w words_=""`],
    eachWord: ["for ((i = 1; i < COMP_CWORD; i++)); do", `  w="\${COMP_WORDS[i]}"`],
    offer: (node) => {
      const words = [...node.subcommands.map((s) => s.path.at(-1)!), ...flagWords(node), "--help"];
      return `words_=${shellWord(words.join(" "))}`;
    },
    reply: 'COMPREPLY=($(compgen -W "$words_" -- "$cur"))',
  });
  return `# bash completion for blockhost (generated from its command definitions)
${fn}
complete -o default -F _blockhost blockhost
`;
}

function zsh(root: CommandNode): string {
  const clean = (t: string) => t.replace(/[:'\\]/g, " ");
  const fn = pathWalkFunction(root, {
    locals: ["local -a items", 'local path_="" next w'],
    eachWord: [`for w in "\${(@)words[2,CURRENT-1]}"; do`],
    offer: (node) => {
      const subs = node.subcommands.map((s) => `${s.path.at(-1)}:${clean(s.description)}`);
      const flags = node.args
        .filter((a) => a.kind !== "positional")
        .flatMap((a) =>
          [a.name, ...a.aliases].map((n) => `${n.length === 1 ? "-" : "--"}${n}:${clean(a.description)}`),
        );
      return `items=(${[...subs, ...flags].map(shellWord).join(" ")})`;
    },
    reply: "_describe 'blockhost' items",
  });
  return `#compdef blockhost
# zsh completion for blockhost (generated from its command definitions)
${fn}
_blockhost "$@"
`;
}

function fish(root: CommandNode): string {
  const lines = [
    "# fish completion for blockhost (generated from its command definitions)",
    "complete -c blockhost -f",
  ];
  for (const node of walk(root)) {
    const depth = node.path.length - 1;
    const seen = node.path.slice(1).map((w) => `__fish_seen_subcommand_from ${w}`);
    const cond =
      depth === 0
        ? "__fish_use_subcommand"
        : `${seen.join("; and ")}${node.subcommands.length > 0 ? `; and not __fish_seen_subcommand_from ${node.subcommands.map((s) => s.path.at(-1)).join(" ")}` : ""}`;
    for (const s of node.subcommands) {
      lines.push(
        `complete -c blockhost -n ${shellWord(cond)} -a ${shellWord(s.path.at(-1)!)} -d ${shellWord(s.description)}`,
      );
    }
    for (const a of node.args.filter((x) => x.kind !== "positional")) {
      const long = a.name.length > 1 ? ` -l ${a.name}` : ` -s ${a.name}`;
      const short = a.aliases
        .filter((x) => x.length === 1)
        .map((x) => ` -s ${x}`)
        .join("");
      const value = a.kind === "boolean" ? "" : a.options ? ` -x -a ${shellWord(a.options.join(" "))}` : " -r";
      lines.push(`complete -c blockhost -n ${shellWord(cond)}${long}${short}${value} -d ${shellWord(a.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The completion script for one shell. */
export function completion(root: CommandNode, shell: Shell): string {
  return shell === "bash" ? bash(root) : shell === "zsh" ? zsh(root) : fish(root);
}
