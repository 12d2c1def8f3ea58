// /etc/blockhost/admin-commands.json: the secret command names the admin wallet may send, and what each does.
import { existsSync } from "node:fs";
import { adminCommandName } from "../admin-command-name.ts";
import { paths } from "../paths.ts";
import { array, int, literal, object, optional, record, str, type Infer } from "../schema.ts";
import { port } from "../validators.ts";
import { loadConfigFile } from "./load.ts";

export const knockDefinitionParams = object({
  allowed_ports: optional(array(port, 1, 32)),
  default_duration: optional(int(1, 3600)),
  proto: optional(literal("tcp", "udp")),
});

export const adminCommandSchema = object({
  action: literal("knock"),
  description: optional(str(/^[\x20-\x7e]{0,256}$/, "printable text ≤256 chars", 256)),
  params: optional(knockDefinitionParams),
});

/** Command names are the operator's secret (e.g. 16 random hex digits): short printable tokens. */
export { adminCommandName };
export const adminCommandsSchema = object({ commands: record(adminCommandName, adminCommandSchema, 100) });
export type AdminCommands = Infer<typeof adminCommandsSchema>;
export type AdminCommand = Infer<typeof adminCommandSchema>;

/** The command table; a missing file is an empty table (admin commands off). */
export function loadAdminCommands(file = paths.config("admin-commands.json")): AdminCommands {
  if (!existsSync(file)) return { commands: {} };
  return loadConfigFile(file, adminCommandsSchema, "json");
}
