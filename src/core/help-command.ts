/** `blockhost help [COMMAND]` and `blockhost version`, listed in the help and the completions like any command. */
import { defineCommand } from "citty";
import { runCli, variadic } from "./cli.ts";
import type { AnyCommand } from "./command-def.ts";
import { VERSION } from "../version.ts";
import { writeOut } from "./stdio.ts";

export const help = variadic(
  defineCommand({
    meta: {
      name: "help",
      description: "Show the help of blockhost or of one of its commands",
      examples: ["blockhost help", "blockhost help vm create"],
    },
    args: {
      command: { type: "positional", required: false, valueHint: "COMMAND", description: "Command to describe" },
    },
    async run({ args, data }) {
      const root = (data as { root?: AnyCommand } | undefined)?.root;
      if (root) process.exitCode = await runCli(root, [...args._.map(String), "--help"]);
    },
  }),
);

export const version = defineCommand({
  meta: { name: "version", description: "Print the version of this blockhost binary", examples: ["blockhost version"] },
  async run() {
    await writeOut(`blockhost ${VERSION}\n`);
  },
});
