/** Man pages and completions come from the command definitions: a new option shows up without editing any doc. */
import { describe, expect, test } from "bun:test";
import { defineCommand } from "citty";
import { commandTree, completion, manPages } from "../../../src/core/cli-docs.ts";
import { main } from "../../../src/main.ts";

const demo = defineCommand({
  meta: { name: "demo", description: "Demo root" },
  subCommands: {
    serve: defineCommand({
      meta: { name: "serve", description: "Serve things" },
      args: {
        port: { type: "string", description: "TCP port", valueHint: "N" },
        verbose: { type: "boolean", alias: "v", description: "say more" },
      },
      run() {},
    }),
    secret: defineCommand({ meta: { name: "secret", hidden: true }, run() {} }),
    db: () =>
      Promise.resolve(
        defineCommand({
          meta: { name: "db", description: "Database tools" },
          subCommands: {
            dump: defineCommand({
              meta: { description: "Dump it" },
              args: { file: { type: "positional", required: true } },
              run() {},
            }),
          },
        }),
      ),
  },
});

describe("cli-docs", () => {
  test("the tree resolves lazy subcommands and leaves hidden ones out", async () => {
    const tree = await commandTree(demo);
    expect(tree.subcommands.map((s) => s.path.join(" "))).toEqual(["blockhost serve", "blockhost db"]);
    expect(tree.subcommands[1]!.subcommands[0]!.args).toEqual([
      {
        name: "file",
        kind: "positional",
        description: "",
        aliases: [],
        valueHint: undefined,
        options: undefined,
        required: true,
      },
    ]);
  });

  test("one man page per top-level command, with synopsis, options and nested commands", async () => {
    const pages = manPages(await commandTree(demo), "9.9.9");
    expect([...pages.keys()].sort()).toEqual(["blockhost-db.1", "blockhost-serve.1", "blockhost.1"]);
    const serve = pages.get("blockhost-serve.1")!;
    expect(serve).toStartWith(
      '.TH BLOCKHOST\\-SERVE 1 "2026-12-01" "blockhost 9.9.9" "BlockHost"\n.SH NAME\nblockhost\\-serve \\- Serve things',
    );
    expect(serve).toContain("\\fB\\-\\-port\\fR \\fIN\\fR\nTCP port");
    expect(serve).toContain("\\fB\\-\\-verbose\\fR, \\fB-v\\fR\nsay more");
    expect(pages.get("blockhost-db.1")).toContain('.SH "BLOCKHOST DB DUMP"\nDump it');
  });

  test("completions list subcommands and flags at each level", async () => {
    const tree = await commandTree(demo);
    const bash = completion(tree, "bash");
    expect(bash).toContain("    'serve') words_='--port --verbose -v --help' ;;");
    expect(bash).toContain("    '') words_='serve db --help' ;;");
    expect(completion(tree, "zsh")).toContain("'db dump') items=()");
    expect(completion(tree, "fish")).toContain(
      "complete -c blockhost -n '__fish_seen_subcommand_from serve' -l port -r -d 'TCP port'",
    );
  });

  test("every blockhost subcommand gets a page", async () => {
    const tree = await commandTree(main);
    const pages = manPages(tree, "0.0.0");
    for (const sub of tree.subcommands) expect(pages.has(`${sub.path.join("-")}.1`)).toBe(true);
    expect(tree.subcommands.map((s) => s.path[1])).toContain("completion");
  });
});
