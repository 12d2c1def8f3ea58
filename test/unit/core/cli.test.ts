/** runCli's own argument parser: what a command's run() receives, and what is refused with exit 2. */
import { describe, expect, test } from "bun:test";
import { defineCommand } from "citty";
import { runCli, variadic } from "../../../src/core/cli.ts";

let seen: Record<string, unknown> | undefined;
const capture = ({ args }: { args: Record<string, unknown> }) => {
  seen = args;
};

const root = defineCommand({
  meta: { name: "blockhost", version: "9.9.9" },
  subCommands: {
    make: defineCommand({
      meta: { name: "make" },
      args: {
        name: { type: "positional", required: true },
        extra: { type: "positional", required: false },
        "owner-wallet": { type: "string", required: true },
        size: { type: "string", default: "20", alias: "s" },
        apply: { type: "boolean" },
        mode: { type: "enum", options: ["fast", "slow"] },
      },
      run: capture,
    }),
    many: variadic(defineCommand({ meta: { name: "many" }, args: { first: { type: "positional" } }, run: capture })),
  },
});

async function run(...argv: string[]) {
  seen = undefined;
  const code = await runCli(root, argv);
  // run() assigned it (TypeScript cannot see that through the callback).
  return { code, args: seen as Record<string, unknown> | undefined };
}

describe("runCli's parser", () => {
  test("positionals by position, options by name and camelCase, defaults, --x=value", async () => {
    const r = await run("make", "web1", "--owner-wallet=0xabc", "--apply", "-s", "40");
    expect(r.code).toBe(0);
    expect(r.args).toMatchObject({ name: "web1", "owner-wallet": "0xabc", ownerWallet: "0xabc", apply: true });
    expect(r.args?.size).toBe("40");
    expect(r.args?.extra).toBeUndefined();
    expect(r.args?._).toEqual(["web1"]);
    expect((await run("make", "web1", "--owner-wallet", "0xabc")).args?.size).toBe("20");
  });

  test("--no-flag is false, and a value after -- is a positional even when it looks like an option", async () => {
    expect((await run("make", "a", "--owner-wallet", "x", "--no-apply")).args?.apply).toBe(false);
    const r = await run("make", "--owner-wallet", "x", "--", "--weird");
    expect(r.args?.name).toBe("--weird");
  });

  test("a variadic command gets every positional in _", async () => {
    expect((await run("many", "a", "b", "c")).args?._).toEqual(["a", "b", "c"]);
  });

  test.each([
    [["make"], "missing argument"],
    [["make", "web1"], "missing required option"],
    [["make", "web1", "--owner-wallet"], "needs a value"],
    [["make", "web1", "--owner-wallet", "x", "--frob"], "unknown option"],
    [["make", "web1", "x", "y", "--owner-wallet", "x"], "unexpected argument"],
    [["make", "web1", "--owner-wallet", "x", "--mode", "medium"], "must be one of"],
    [["nope"], "unknown command"],
    [[], "a command is required"],
  ])("%j is a usage error (exit 2) and run() is not called", async (argv, _why) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.args).toBeUndefined();
  });

  test("help and version answer with exit 0 without running anything", async () => {
    expect((await run("make", "--help")).code).toBe(0);
    expect((await run("help", "make")).code).toBe(0);
    expect((await run("--version")).code).toBe(0);
    expect(seen).toBeUndefined();
  });
});
