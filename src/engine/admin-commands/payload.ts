// The on-chain admin command: {command, params, nonce, timestamp}, ECIES-encrypted to the server's public key.
// Browser-safe (no node: imports): the signup page's admin sender bundles this module.
import { bytesToHex, hexToBytes, type Hex } from "viem";
import { adminCommandName } from "../../core/admin-command-name.ts";
import { BlockhostError } from "../../core/errors.ts";
import { isSchemaError, int, object, optional, record, str, type Infer, type Schema } from "../../core/schema.ts";
import { eciesDecrypt, eciesEncrypt } from "../../crypto/ecies.ts";

const anyValue: Schema<unknown> = { describe: "a value", parse: (v) => v };

/** What the engine accepts after decryption; unknown keys are refused. */
export const adminPayloadSchema = object({
  command: adminCommandName,
  params: optional(record(str(/^[a-z_]{1,32}$/, "a parameter name", 32), anyValue, 16)),
  nonce: str(/^[A-Za-z0-9-]{8,64}$/, "a nonce of 8..64 letters, digits and - (a UUID)", 64),
  timestamp: int(0, 2 ** 40),
});
export type AdminPayload = Infer<typeof adminPayloadSchema>;

export interface AdminCommandInput {
  command: string;
  params?: Record<string, unknown>;
  /** Default: a fresh UUID. */
  nonce?: string;
  /** Unix seconds; default: now. */
  timestamp?: number;
}

/** Build and validate a command payload (the CLI's `admin send` and the signup page's sender use this). */
export function buildAdminCommand(input: AdminCommandInput): AdminPayload {
  const payload = {
    command: input.command,
    params: input.params ?? {},
    nonce: input.nonce ?? crypto.randomUUID(),
    timestamp: input.timestamp ?? Math.floor(Date.now() / 1000),
  };
  try {
    return adminPayloadSchema.parse(payload, "command");
  } catch (e) {
    if (isSchemaError(e)) throw new BlockhostError("E_INVALID_INPUT", e.message);
    throw e;
  }
}

/** ECIES-encrypt a payload to the server's uncompressed public key; the result is the transaction's data. */
export function encryptAdminCommand(serverPublicKey: Uint8Array, payload: AdminPayload): Hex {
  return bytesToHex(eciesEncrypt(serverPublicKey, new TextEncoder().encode(JSON.stringify(payload))));
}

/** Decrypt and validate transaction data; throws E_CRYPTO (not for us) or E_INVALID_INPUT (malformed). */
export function decodeAdminCommand(serverKey: Uint8Array, data: Hex): AdminPayload {
  const plain = eciesDecrypt(serverKey, hexToBytes(data));
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    throw new BlockhostError("E_INVALID_INPUT", "decrypted command is not JSON");
  }
  try {
    return adminPayloadSchema.parse(json, "command");
  } catch (e) {
    if (isSchemaError(e)) throw new BlockhostError("E_INVALID_INPUT", e.message);
    throw e;
  }
}
