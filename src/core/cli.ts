/** Run a citty command tree: argument checks, help, one-line errors and exit codes. */
import type { ArgsDef } from "citty";
import { commandTree } from "./cli-docs.ts";
import { BlockhostError, EXIT, exitCodeFor, oneLine } from "./errors.ts";
import { renderHelp } from "./help.ts";
import { writeErr, writeOut } from "./stdio.ts";

import type { AnyCommand } from "./command-def.ts";
const resolve = async <T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> =>
  typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;

/** Commands marked variadic accept more positionals than they declare (they read `args._`). */
const variadicCommands = new WeakSet<object>();
export function variadic<T extends AnyCommand>(cmd: T): T {
  variadicCommands.add(cmd);
  return cmd;
}

/** A root holding one top-level command, for a chunk of the binary that loads only that command. */
export function soloRoot(name: string, cmd: AnyCommand, version: string): AnyCommand {
  return { meta: { name: "blockhost", version }, subCommands: { [name]: cmd } };
}

function usageError(message: string): BlockhostError {
  return new BlockhostError("E_USAGE", message);
}

type Kind = "boolean" | "value";
interface Flag {
  kind: Kind;
  arg: string;
  negated?: boolean;
}

/** Every spelling of every option (`--name`, `--no-name`, aliases) with whether it takes a value. */
function flagTable(def: ArgsDef): Map<string, Flag> {
  const flags = new Map<string, Flag>();
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") continue;
    const kind: Kind = a.type === "boolean" ? "boolean" : "value";
    const alias = (a as { alias?: string | string[] }).alias;
    for (const n of [name, ...(alias ? [alias].flat() : [])]) {
      flags.set(n, { kind, arg: name });
      if (kind === "boolean") flags.set(`no-${n}`, { kind, arg: name, negated: true });
    }
  }
  return flags;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * Parse argv against the command's declaration and refuse what it does not declare: unknown options,
 * surplus positionals, missing required arguments, values outside an enum. CLI args are an allowlist
 * too, and every refusal reads the same way. The result has citty's shape (`_` = every positional,
 * each argument under its name and its camelCase name); citty's own parser is not used, which spares
 * every command the loading of node:util.
 */
function parseArgs(argv: string[], def: ArgsDef, isVariadic: boolean): Record<string, unknown> {
  const flags = flagTable(def);
  const given = new Map<string, string | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg.length === 1 || /^-\d/.test(arg)) {
      positionals.push(arg);
      continue;
    }
    const [spelled, inline] = [arg.split("=")[0]!, arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : undefined];
    const flag = flags.get(spelled.replace(/^--?/, ""));
    if (!flag) throw usageError(`unknown option ${spelled}`);
    if (flag.kind === "boolean") {
      given.set(flag.arg, flag.negated !== true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw usageError(`option ${spelled} needs a value`);
    given.set(flag.arg, value);
  }
  const declared = Object.entries(def).filter(([, a]) => a.type === "positional");
  if (!isVariadic && positionals.length > declared.length)
    throw usageError(`unexpected argument ${JSON.stringify(positionals[declared.length])}`);
  declared.forEach(([name, a], i) => {
    // citty's rule: a positional is required unless it says `required: false` or has a default.
    if (a.required !== false && a.default === undefined && positionals[i] === undefined)
      throw usageError(`missing argument <${a.valueHint ?? name.toUpperCase().replace(/-/g, "_")}>`);
  });
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") continue;
    const value = given.get(name);
    if (a.required && value === undefined) throw usageError(`missing required option --${name}`);
    const options = (a as { options?: string[] }).options;
    if (a.type === "enum" && options && typeof value === "string" && !options.includes(value))
      throw usageError(`--${name} must be one of ${options.join(", ")} (got ${JSON.stringify(value)})`);
  }
  const args: Record<string, unknown> = { _: positionals };
  let index = 0;
  for (const [name, a] of Object.entries(def)) {
    const value = a.type === "positional" ? positionals[index++] : given.get(name);
    args[name] = args[camel(name)] = value ?? a.default;
  }
  return args;
}

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
};

/** Appended to a usage error, on the same line: errors stay one line (logs, scripts, journald). */
function helpHint(path: string[]): string {
  return ` (see "${["blockhost", "help", ...path.slice(1)].join(" ")}")`;
}

/**
 * Run the command tree: find the leaf, answer help/--help/version, refuse what is not declared, and
 * turn every error into `blockhost <command>: <message>` on stderr plus its documented exit code
 * (a usage error, exit 2, also says where the help is).
 */
export async function runCli(root: AnyCommand, argv = process.argv.slice(2)): Promise<number> {
  let cmd = root;
  const path = ["blockhost"];
  let rest = argv;
  let help = false;
  // `help COMMAND…` is `COMMAND… --help`; `help --help` describes the help command itself.
  if (rest[0] === "help" && !wantsHelp(rest.slice(1))) {
    help = true;
    rest = rest.slice(1);
  }
  try {
    if (rest.length === 1 && path.length === 1 && ["--version", "-v", "version"].includes(rest[0]!)) {
      const meta = await resolve(root.meta);
      await writeOut(`blockhost ${meta?.version ?? "unknown"}\n`);
      return EXIT.ok;
    }
    for (;;) {
      const subs = await resolve(cmd.subCommands);
      const next = rest[0];
      if (!subs || next === undefined || next.startsWith("-")) break;
      const sub = subs[next];
      if (!sub) {
        if (cmd.run && !help) break;
        throw usageError(`unknown command ${JSON.stringify(next)}`);
      }
      cmd = (await resolve(sub)) as AnyCommand;
      path.push(next);
      rest = rest.slice(1);
    }
    if (help || wantsHelp(rest)) {
      const columns = Math.min(Math.max(Number(process.env.COLUMNS) || 100, 60), 120);
      await writeOut(renderHelp(await commandTree(cmd, path, 1), columns));
      return EXIT.ok;
    }
    const subs = await resolve(cmd.subCommands);
    if (subs && !cmd.run) {
      if (rest[0] !== undefined) throw usageError(`unknown option ${rest[0]}`);
      const names = Object.keys(subs);
      throw usageError(`a command is required${names.length <= 12 ? ` (${names.join(", ")})` : ""}`);
    }
    const args = parseArgs(rest, ((await resolve(cmd.args)) ?? {}) as ArgsDef, variadicCommands.has(cmd));
    await cmd.run?.({ rawArgs: rest, args: args as never, cmd, data: { root } });
    return EXIT.ok;
  } catch (e) {
    const code = exitCodeFor(e);
    await writeErr(`${path.join(" ")}: ${oneLine(e)}${code === EXIT.usage ? helpHint(path) : ""}\n`);
    if (process.env.BLOCKHOST_DEBUG === "1" && e instanceof Error && !(e instanceof BlockhostError))
      await writeErr(`${e.stack}\n`);
    return code;
  }
}
