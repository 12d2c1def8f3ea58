/** Run a citty command tree: argument checks, help, one-line errors and exit codes. */
import { renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { BlockhostError, exitCodeFor, EXIT, oneLine } from "./errors.ts";

// biome-ignore lint/suspicious/noExplicitAny: a command of any argument shape (citty's own default)
export type AnyCommand = CommandDef<any>;
const plain = (text: string, tty: boolean | undefined) => (tty ? text : Bun.stripANSI(text));
const resolve = async <T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> =>
  typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;

/** Commands marked variadic accept more positionals than they declare (they read `args._`). */
const variadicCommands = new WeakSet<object>();
export function variadic<T extends AnyCommand>(cmd: T): T {
  variadicCommands.add(cmd);
  return cmd;
}

function usageError(message: string): BlockhostError {
  return new BlockhostError("E_USAGE", message);
}

/** Refuse flags the command does not declare and surplus positionals: CLI args are an allowlist too. */
function checkArgs(argv: string[], def: ArgsDef, isVariadic: boolean): void {
  const flags = new Map<string, "boolean" | "value">();
  let positionals = 0;
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") {
      positionals++;
      continue;
    }
    const kind = a.type === "boolean" ? "boolean" : "value";
    for (const n of [
      name,
      ...((a as { alias?: string | string[] }).alias ? [(a as { alias: string | string[] }).alias].flat() : []),
    ]) {
      flags.set(n, kind);
      if (kind === "boolean") flags.set(`no-${n}`, "boolean");
    }
  }
  let seen = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      seen += argv.length - i - 1;
      break;
    }
    if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      const name = arg.replace(/^--?/, "").split("=")[0]!;
      const kind = flags.get(name);
      if (!kind) throw usageError(`unknown option ${arg.split("=")[0]}`);
      if (kind === "value" && !arg.includes("=")) {
        if (i + 1 >= argv.length) throw usageError(`option --${name} needs a value`);
        i++;
      }
      continue;
    }
    seen++;
  }
  if (!isVariadic && seen > positionals)
    throw usageError(`unexpected argument ${JSON.stringify(argv.filter((a) => !a.startsWith("-")).at(-1))}`);
}

/**
 * Run the command tree: find the leaf, answer --help/--version, refuse unknown options,
 * and turn every error into one line on stderr plus its documented exit code.
 */
export async function runCli(root: AnyCommand, argv = process.argv.slice(2)): Promise<number> {
  let cmd = root;
  let name = "blockhost";
  let rest = argv;
  try {
    for (;;) {
      const subs = await resolve(cmd.subCommands);
      const next = rest[0];
      if (!subs || next === undefined || next.startsWith("-")) break;
      const sub = subs[next];
      if (!sub) throw usageError(`unknown command "${next}" (try: ${name} --help)`);
      cmd = (await resolve(sub)) as AnyCommand;
      name = `${name} ${next}`;
      rest = rest.slice(1);
    }
    const parent = { meta: { name: name.split(" ").slice(0, -1).join(" ") } } as AnyCommand;
    if (rest.includes("--help") || rest.includes("-h")) {
      process.stdout.write(
        `${plain(await renderUsage(cmd, name === "blockhost" ? undefined : parent), process.stdout.isTTY)}\n`,
      );
      return EXIT.ok;
    }
    if (cmd === root && rest.length === 1 && (rest[0] === "--version" || rest[0] === "-v")) {
      const meta = await resolve(root.meta);
      process.stdout.write(`blockhost ${meta?.version ?? "unknown"}\n`);
      return EXIT.ok;
    }
    const subs = await resolve(cmd.subCommands);
    if (subs && !cmd.run) {
      process.stderr.write(
        `${plain(await renderUsage(cmd, name === "blockhost" ? undefined : parent), process.stderr.isTTY)}\n`,
      );
      throw usageError(rest[0] ? `unknown option ${rest[0]}` : `${name}: a command is required`);
    }
    checkArgs(rest, ((await resolve(cmd.args)) ?? {}) as ArgsDef, variadicCommands.has(cmd));
    await runCommand({ ...cmd, subCommands: undefined }, { rawArgs: rest, data: { root } });
    return EXIT.ok;
  } catch (e) {
    const cliError = e instanceof Error && e.name === "CLIError";
    process.stderr.write(`${name}: ${oneLine(e)}\n`);
    if (process.env.BLOCKHOST_DEBUG === "1" && e instanceof Error && !(e instanceof BlockhostError))
      process.stderr.write(`${e.stack}\n`);
    return cliError ? EXIT.usage : exitCodeFor(e);
  }
}
