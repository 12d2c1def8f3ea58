/** The in-VM login configuration (machine id, secret, signing page). */
import { loadConfigFile } from "../core/config/load.ts";
import { bool, int, object, optional, str, withDefault, type Infer } from "../core/schema.ts";
import { paths } from "../core/paths.ts";

/** The EVM signing page's port: 1024 + crc32("evm") % 64511, as in the original libpam-web3. */
export const SIGNING_PORT = 63108;

/** Machine ids end up in the signed message and the login banner: keep them printable and short. */
const machineId = str(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a machine id (letters, digits, . _ -; ≤64)", 64);
/** At least 16 bytes of key material, as hex. */
const secretKey = str(/^(0x)?([0-9a-fA-F]{2}){16,64}$/, "a hex secret of 16 to 64 bytes", 130);

/**
 * `/etc/pam_web3/config.toml`, written by the provisioner's cloud-init (root-only, 0600).
 * Keys of older libpam-web3 versions (`signing_url`, `callback_enabled`, `mode`) are accepted and
 * ignored so old cloud-init output still loads; anything else is refused.
 */
export const pamConfigSchema = object({
  machine: object({ id: machineId, secret_key: secretKey }),
  auth: withDefault(
    object({
      /** Digits in a code; below MIN_VM_OTP_LENGTH (otp.ts) it is raised to that. */
      otp_length: withDefault(int(4, 19), 12),
      otp_ttl_seconds: withDefault(int(1, 86_400), 300),
      use_tls: withDefault(bool, true),
      /** How long verify waits for the signing page's callback after the user pressed Enter. */
      callback_grace_seconds: withDefault(int(0, 120), 10),
      /** Port of the signing page (the URL shown and the port it listens on). */
      signing_port: withDefault(int(1, 65_535), SIGNING_PORT),
      signing_url: optional(str(/^[\x20-\x7e]{0,512}$/, "a URL (ignored)", 512)),
      callback_enabled: optional(bool),
      mode: optional(str(/^[a-z]{0,16}$/, "a mode name (ignored)", 16)),
    }),
    { otp_length: 12, otp_ttl_seconds: 300, use_tls: true, callback_grace_seconds: 10, signing_port: SIGNING_PORT },
  ),
});

export type PamConfig = Infer<typeof pamConfigSchema>;

/** Load and validate the config; errors name the file and key (exit 78). */
export function loadPamConfig(file = paths.pamConfig): PamConfig {
  return loadConfigFile(file, pamConfigSchema, "toml");
}

/** The secret as bytes (the optional 0x dropped). */
export function secretBytes(config: PamConfig): Uint8Array {
  return Buffer.from(config.machine.secret_key.replace(/^0x/, ""), "hex");
}
