/**
 * The CLI at a glance: src/main.ts lists every top-level command, each defined in `<command>-command.ts`
 * in the folder of its logic; subcommand files are `<command>-<sub>-command.ts`.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { importEdges, sourceFiles } from "../../../scripts/import-picture.ts";

const repo = resolve(import.meta.dir, "../../..");
const files = sourceFiles(repo);
const main = readFileSync(resolve(repo, "src/main.ts"), "utf8");
/** Top-level command name → the file main.ts loads it from. */
const registry = new Map(
  [...main.matchAll(/^\s*"?([a-z][a-z-]*)"?: \(\) => import\("\.\/([^"]+)"\)/gm)].map((m) => [
    m[1] as string,
    `src/${m[2]}`,
  ]),
);
const COMMAND_FILE = /-command\.ts$/;

describe("command definitions", () => {
  test("main.ts lists the commands (a sanity check of the parse above)", () => {
    expect(registry.get("vm")).toBe("src/provision/vm-command.ts");
    expect(registry.size).toBeGreaterThan(20);
  });

  test("every top-level command is defined in <command>-command.ts", () => {
    const misnamed = [...registry].filter(([name, file]) => basename(file) !== `${name}-command.ts`);
    expect(misnamed).toEqual([]);
  });

  test("every file that defines a command is named *-command.ts", () => {
    const defining = files.filter(
      (f) => f !== "src/main.ts" && readFileSync(resolve(repo, f), "utf8").includes("defineCommand("),
    );
    expect(defining.filter((f) => !COMMAND_FILE.test(f))).toEqual([]);
  });

  test("every command file is named for a top-level command and reachable from main.ts", () => {
    const tops = [...registry.keys(), "help"];
    const commandFiles = files.filter((f) => COMMAND_FILE.test(f));
    expect(commandFiles.filter((f) => !tops.some((t) => basename(f).startsWith(`${t}-`)))).toEqual([]);
    const edges = importEdges(repo, files).filter((e) => e.kind !== "type");
    const reached = new Set(["src/main.ts"]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const e of edges)
        if (reached.has(e.from) && !reached.has(e.to)) {
          reached.add(e.to);
          grew = true;
        }
    }
    expect(commandFiles.filter((f) => !reached.has(f))).toEqual([]);
  });
});
