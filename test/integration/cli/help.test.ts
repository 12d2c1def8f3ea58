/**
 * Every command's help, as the compiled binary prints it: a description, an example, required marks,
 * one placeholder style, no trailing spaces; and usage errors in one style with exit 2.
 */
import { describe, expect, test } from "bun:test";
import { type CommandNode, commandTree, placeholder, walk } from "../../../src/core/cli-docs.ts";
import { main } from "../../../src/main.ts";
import { runBlockhost } from "../../helpers/binary.ts";

const tree = await commandTree(main);
const nodes = [...walk(tree)];
const byPath = (node: CommandNode) => node.path.slice(1);

/** Words only someone who knows the project's history would understand. */
const INSIDER = [/\bthe original\b/i, /\bthe seed\b/i, /\bseed's\b/i, /\bbhcrypt\b/];
const PLACEHOLDER = /^<[A-Z][A-Z0-9_]*>(\.\.\.)?$/;

/** Run `blockhost ARGS` for every entry, a few at a time. */
async function runAll(argvs: string[][]) {
  const results: Awaited<ReturnType<typeof runBlockhost>>[] = [];
  for (let i = 0; i < argvs.length; i += 4)
    results.push(...(await Promise.all(argvs.slice(i, i + 4).map((a) => runBlockhost(a)))));
  return results;
}

const helps = await runAll(nodes.map((n) => [...byPath(n), "--help"]));

describe("help", () => {
  test.each(nodes.map((n, i) => [n.path.join(" "), n, i] as const))("%s --help", (_name, node, i) => {
    const help = helps[i]!;
    expect(help.code).toBe(0);
    expect(help.stderr).toBe("");
    const text = help.stdout;
    expect(node.description.length).toBeGreaterThan(10);
    expect(text.startsWith(node.description.slice(0, 20))).toBe(true);
    expect(text).toContain("Usage:\n  blockhost");
    // One or two examples, each a whole command line of this very command.
    expect(node.examples.length).toBeGreaterThanOrEqual(1);
    expect(node.examples.length).toBeLessThanOrEqual(3);
    for (const e of node.examples) expect(e).toContain(node.path.join(" "));
    expect(text).toContain(`Examples:\n  ${node.examples[0]}`);
    for (const line of text.split("\n")) {
      expect(line).not.toMatch(/\s$/);
      expect(line).not.toContain("\t");
      expect(line.length).toBeLessThanOrEqual(120);
    }
    for (const token of text.match(/<[^>\s]*>(\.\.\.)?/g) ?? []) expect(token).toMatch(PLACEHOLDER);
    expect(text).not.toContain("[OPTIONS]");
    for (const word of INSIDER) expect(text).not.toMatch(word);
    for (const a of node.args) {
      expect(a.description.length).toBeGreaterThan(3);
      if (a.kind !== "boolean") expect(a.valueHint ?? "").toMatch(/^([A-Z][A-Z0-9_]*|[a-z]+)$/);
      if (a.required && a.kind !== "positional") expect(text).toMatch(/\(required\)/);
      if (a.kind === "positional" && !a.required && !node.usage) expect(text).toContain(`[${placeholder(a)}]`);
    }
    if (node.path.length === 1) {
      expect(text).toContain("BLOCKHOST_ROOT");
      expect(text).toMatch(/Exit codes:\n {2}0 +success/);
      expect(text).toMatch(/\n {2}78 +configuration error/);
    }
  });

  test("`blockhost help COMMAND` prints the same text as `blockhost COMMAND --help`", async () => {
    const [viaHelp, viaFlag] = await runAll([
      ["help", "vm", "create"],
      ["vm", "create", "--help"],
    ]);
    expect(viaHelp!.code).toBe(0);
    expect(viaHelp!.stdout).toBe(viaFlag!.stdout);
    expect(viaHelp!.stdout).toContain("--owner-wallet <WALLET>");
  });

  test("`blockhost version` and `--version` print the version", async () => {
    const [a, b] = await runAll([["version"], ["--version"]]);
    expect(a!.stdout).toMatch(/^blockhost \d+\.\d+\.\d+\n$/);
    expect(b!.stdout).toBe(a!.stdout);
  });
});

describe("usage errors", () => {
  test.each([
    [[], "blockhost: a command is required", "blockhost help"],
    [["wallet"], "blockhost wallet: a command is required (send, balance", "blockhost help wallet"],
    [["frobnicate"], 'blockhost: unknown command "frobnicate"', "blockhost help"],
    [["help", "frobnicate"], 'blockhost: unknown command "frobnicate"', "blockhost help"],
    [["vm", "create"], "blockhost vm create: missing argument <NAME>", "blockhost help vm create"],
    [["mint"], "blockhost mint: missing required option --owner-wallet", "blockhost help mint"],
    [["wallet", "who"], "blockhost wallet who: missing argument", "blockhost help wallet who"],
    [["vm", "list", "--frob"], "blockhost vm list: unknown option --frob", "blockhost help vm list"],
    [["gc", "--grace-days"], "blockhost gc: option --grace-days needs a value", "blockhost help gc"],
    [
      ["crypto", "derive-pubkey"],
      "blockhost crypto derive-pubkey: missing required option",
      "blockhost help crypto derive-pubkey",
    ],
    [["pam", "verify", "extra"], 'blockhost pam verify: unexpected argument "extra"', "blockhost help pam verify"],
  ])("blockhost %j", async (argv, message, hint) => {
    const r = await runBlockhost(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith(message);
    expect(lines[0]).toEndWith(`(see "${hint}")`);
    expect(r.stderr).not.toMatch(/Missing required|Invalid value for argument|CLIError/);
  });
});
