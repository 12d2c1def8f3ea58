/** Agent action: replace the admin-command table (/etc/blockhost/admin-commands.json) after setup. */
import { adminCommandsSchema } from "../../core/config/admin-commands.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { requireKnockPortsKept } from "../scope-after-setup.ts";
import { defineAction } from "./types.ts";

/**
 * The whole table, validated by the engine's own schema; 0640 root:blockhost because command names
 * are secrets. Its ports are the knock's scope, so after setup only root may add one.
 */
export const adminCommandsSave = defineAction({
  name: "admin-commands-save",
  params: adminCommandsSchema,
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    requireKnockPortsKept(p.commands, ctx.peer);
    ensureDirUnder(paths.root, paths.configDir);
    const file = paths.config("admin-commands.json");
    writeFileAtomic(file, `${JSON.stringify({ commands: p.commands }, null, 2)}\n`, {
      mode: 0o640,
      blockhostGroup: true,
    });
    return { commands: Object.keys(p.commands).length };
  },
});
