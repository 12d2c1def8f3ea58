/** `blockhost completion bash|zsh|fish`: print the shell completion script generated from the command tree. */
import { defineCommand } from "citty";
import { commandTree, completion, SHELLS, type Shell } from "./cli-docs.ts";
import type { AnyCommand } from "./command-def.ts";
import { BlockhostError } from "./errors.ts";

export default defineCommand({
  meta: {
    name: "completion",
    description: "Print the script that makes your shell complete blockhost's commands and options",
    examples: ["blockhost completion bash > /etc/bash_completion.d/blockhost", "blockhost completion fish | source"],
  },
  args: {
    shell: { type: "positional", required: true, description: `Your shell: ${SHELLS.join(", ")}`, valueHint: "SHELL" },
  },
  async run({ args, data }) {
    if (!SHELLS.includes(args.shell as Shell)) {
      throw new BlockhostError("E_USAGE", `unknown shell "${args.shell}" (expected ${SHELLS.join(", ")})`);
    }
    const root = (data as { root?: AnyCommand } | undefined)?.root;
    if (!root) throw new BlockhostError("E_USAGE", "completion must run from the blockhost command line");
    process.stdout.write(completion(await commandTree(root), args.shell as Shell));
  },
});
