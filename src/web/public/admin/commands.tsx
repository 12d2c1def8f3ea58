/** Admin-command routes: the knock command table, edited through the agent (admin-commands-save), and the sender page. */
import type { Hono } from "hono";
import { bytesToHex } from "viem";
import {
  type AdminCommand,
  adminCommandName,
  adminCommandSchema,
  loadAdminCommands,
} from "../../../core/config/admin-commands.ts";
import { loadBlockhostConfig } from "../../../core/config/index.ts";
import { BlockhostError, isBlockhostError } from "../../../core/errors.ts";
import { literal, object, str } from "../../../core/schema.ts";
import { addressOfPrivateKey } from "../../../crypto/keys.ts";
import { DEAD_ADDRESS } from "../../../engine/admin-commands/settings.ts";
import { formBody } from "../form-body.ts";
import { type CommandSenderData, CommandsPage } from "./commands-page.tsx";
import type { AdminEnv, AdminKit } from "./kit.tsx";

const knockForm = {
  description: str(/^[\x20-\x7e]{0,256}$/, "printable text of at most 256 characters", 256),
  ports: str(/^\d{1,5}(\s*,\s*\d{1,5}){0,31}$/, "ports separated by commas, like 22, 2222", 200),
  duration: str(/^\d{1,4}$/, "seconds from 1 to 3600", 4),
  proto: literal("tcp", "udp"),
};
const editForm = object(knockForm);
const addForm = object({ name: str(/^.{1,64}$/, "a name", 64), ...knockForm });
const NAME_ROUTE = "[A-Za-z0-9_.-]{1,64}";

/** The form's fields as a command definition, checked by the engine's own schema. */
function definition(f: { description: string; ports: string; duration: string; proto: "tcp" | "udp" }): AdminCommand {
  return adminCommandSchema.parse(
    {
      action: "knock",
      ...(f.description ? { description: f.description } : {}),
      params: {
        allowed_ports: f.ports.split(",").map((p) => Number(p.trim())),
        default_duration: Number(f.duration),
        proto: f.proto,
      },
    },
    "command",
  );
}

/** The root command that saves `commands` (single-quoted for a POSIX shell). */
export function rootSaveCommand(commands: Record<string, AdminCommand>): string {
  const json = JSON.stringify({ commands }).replaceAll("'", "'\\''");
  return `blockhost agent call admin-commands-save '${json}'`;
}

function senderData(deps: AdminKit["deps"]): CommandSenderData | null {
  const admin = loadBlockhostConfig().admin;
  if (!admin) return null;
  const mode = admin.destination_mode ?? "any";
  const destination =
    mode === "server"
      ? addressOfPrivateKey(deps.serverKey)
      : mode === "null"
        ? (admin.destination_address ?? DEAD_ADDRESS)
        : null;
  return {
    chainId: deps.chainId,
    rpcUrl: deps.publicRpcUrl,
    serverPublicKey: deps.serverPublicKey,
    adminWallet: admin.wallet_address,
    destination,
  };
}

export function commandRoutes(app: Hono<AdminEnv>, kit: AdminKit): void {
  const save = async (commands: Record<string, AdminCommand>) => {
    try {
      await kit.deps.agent.call("admin-commands-save", { commands });
    } catch (e) {
      // After setup a new knock port needs root (docs/security/agent.md): give the operator the command.
      if (!isBlockhostError(e) || e.code !== "E_AGENT_OUT_OF_SCOPE") throw e;
      throw new BlockhostError(e.code, `${e.message}; on the host, as root: ${rootSaveCommand(commands)}`);
    }
  };

  app.get("/commands", (c) => {
    try {
      const admin = loadBlockhostConfig().admin;
      const settings: Record<string, string> = {};
      if (admin) {
        settings["admin wallet"] = admin.wallet_address;
        settings.destination_mode = admin.destination_mode ?? "any";
        settings["max_command_age (s)"] = String(admin.max_command_age ?? 300);
        settings.default_deny = String(admin.default_deny ?? false);
        settings.credential_nft_id = String(admin.credential_nft_id ?? 0);
      }
      const view = {
        settings,
        commands: loadAdminCommands().commands,
        sender: senderData(kit.deps),
        suggestedName: bytesToHex(crypto.getRandomValues(new Uint8Array(8))).slice(2),
      };
      return c.html(<CommandsPage {...kit.frame(c, kit.notice(c))} view={view} />);
    } catch (e) {
      // A hand-edited admin-commands.json that no longer parses: say which file and why, on the panel.
      return kit.failed(c, "read the admin-command settings", e);
    }
  });

  app.post("/commands", async (c) => {
    try {
      const f = await formBody(c, addForm);
      const name = adminCommandName.parse(f.name, "name");
      const { commands } = loadAdminCommands();
      if (Object.hasOwn(commands, name)) throw new BlockhostError("E_CONFLICT", "a command with this name exists");
      const def = definition(f);
      // The name is the operator's secret: never logged.
      kit.action(c, "command.add", { params: def.params });
      await save({ ...commands, [name]: def });
    } catch (e) {
      return kit.failed(c, "add the command", e);
    }
    return kit.done(c, "/admin/commands", "command added");
  });

  app.post(`/commands/:name{${NAME_ROUTE}}`, async (c) => {
    try {
      const f = await formBody(c, editForm);
      const name = c.req.param("name");
      const { commands } = loadAdminCommands();
      if (!Object.hasOwn(commands, name)) throw new BlockhostError("E_NOT_FOUND", "no such command");
      const def = definition(f);
      kit.action(c, "command.update", { params: def.params });
      await save({ ...commands, [name]: def });
    } catch (e) {
      return kit.failed(c, "save the command", e);
    }
    return kit.done(c, "/admin/commands", "command saved");
  });

  app.post(`/commands/:name{${NAME_ROUTE}}/remove`, async (c) => {
    try {
      const name = c.req.param("name");
      const { commands } = loadAdminCommands();
      if (!Object.hasOwn(commands, name)) throw new BlockhostError("E_NOT_FOUND", "no such command");
      kit.action(c, "command.remove", {});
      await save(Object.fromEntries(Object.entries(commands).filter(([n]) => n !== name)));
    } catch (e) {
      return kit.failed(c, "remove the command", e);
    }
    return kit.done(c, "/admin/commands", "command removed");
  });
}
