// Admin-command settings: blockhost.yaml `admin:` plus admin-commands.json, with the original's defaults.
import { getAddress, type Hex } from "viem";
import { loadAdminCommands, type AdminCommands } from "../../core/config/admin-commands.ts";
import type { BlockhostConfig } from "../../core/config/index.ts";
import { addressOfPrivateKey } from "../../crypto/keys.ts";

export type DestinationMode = "self" | "server" | "null" | "any";

export interface AdminSettings {
  wallet: Hex;
  mode: DestinationMode;
  /** Where a command transaction must be sent (null for mode `any`). */
  destination: Hex | null;
  maxAgeSeconds: number;
  defaultDeny: boolean;
  loginLog: string;
  commands: AdminCommands["commands"];
}

export const DEAD_ADDRESS: Hex = "0x000000000000000000000000000000000000dEaD";
/** A command dated further ahead than this is refused (clock skew allowance). */
export const MAX_FUTURE_SECONDS = 60;

/** Null when admin commands are off: no `admin:` section or no command defined. */
export function loadAdminSettings(blockhost: BlockhostConfig, serverKey: Uint8Array): AdminSettings | null {
  const admin = blockhost.admin;
  if (!admin) return null;
  const { commands } = loadAdminCommands();
  if (Object.keys(commands).length === 0) return null;
  const wallet = getAddress(admin.wallet_address);
  const mode = admin.destination_mode ?? "any";
  const destination =
    mode === "self"
      ? wallet
      : mode === "server"
        ? addressOfPrivateKey(serverKey)
        : mode === "null"
          ? getAddress(admin.destination_address ?? DEAD_ADDRESS)
          : null;
  return {
    wallet,
    mode,
    destination,
    maxAgeSeconds: admin.max_command_age ?? 300,
    defaultDeny: admin.default_deny ?? false,
    loginLog: admin.login_log ?? "auto",
    commands,
  };
}
