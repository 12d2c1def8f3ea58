/** Agent action: replace the admin-command table (/etc/blockhost/admin-commands.json) after setup, from the admin panel. */
import { adminCommandsSchema } from "../../core/config/admin-commands.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { defineAction } from "./types.ts";

/** The whole table, validated by the engine's own schema; 0640 root:blockhost because command names are secrets. */
export const adminCommandsSave = defineAction({
  name: "admin-commands-save",
  params: adminCommandsSchema,
  timeoutMs: 30_000,
  handler: async (p) => {
    ensureDirUnder(paths.root, paths.configDir);
    const file = paths.config("admin-commands.json");
    writeFileAtomic(file, `${JSON.stringify({ commands: p.commands }, null, 2)}\n`, {
      mode: 0o640,
      blockhostGroup: true,
    });
    return { commands: Object.keys(p.commands).length };
  },
});
