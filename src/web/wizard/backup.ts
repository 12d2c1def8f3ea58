/** The applied-config backup (`blockhost-config.enc`): the draft as YAML, encrypted with the admin's signature. */
import { publicSecret } from "../../core/config/schemas.ts";
import { evmAddress } from "../../core/validators.ts";
import { parse, stringify } from "yaml";
import { BlockhostError } from "../../core/errors.ts";
import { object, optional, str, type Schema } from "../../core/schema.ts";
import { decryptWithSignature, encryptWithSignature, utf8 } from "../../crypto/symmetric.ts";
import {
  adminCommandsSchema,
  backendSchema,
  chainSchema,
  httpsSchema,
  networkSchema,
  planSchema,
  revenueShareSchema,
} from "../../setup/schema.ts";
import type { Draft } from "./draft.ts";

/** Everything but the admin's signature (the key that opens the backup is never inside it). */
export function sealDraft(draft: Draft, signature: string): string {
  const { admin, ...rest } = draft;
  const content = { admin: admin ? { wallet: admin.wallet, public_secret: admin.public_secret } : undefined, ...rest };
  return encryptWithSignature(signature, stringify(content));
}

const restoredChain: Schema<Draft["chain"]> = {
  describe: chainSchema.describe,
  parse: (v, p) => {
    const c = chainSchema.parse({ ...(v as object), generate_deployer: true }, p);
    delete (c as { generate_deployer?: boolean }).generate_deployer;
    return c;
  },
};

const backupSchema = object({
  admin: optional(
    object({
      wallet: evmAddress,
      public_secret: publicSecret,
    }),
  ),
  network: optional(networkSchema),
  https: optional(httpsSchema),
  storage: optional(object({ disk: str(/^[\x20-\x7e]{0,64}$/, "a disk name", 64) })),
  chain: optional(restoredChain),
  deployer_key: optional(str(/^[0-9a-f]{64}$/, "a hex key", 64)),
  plan: optional(planSchema),
  revenue_share: optional(revenueShareSchema),
  backend: optional(backendSchema),
  admin_commands: optional(adminCommandsSchema),
});

/** Open a backup with the signature just made at the wallet gate; it must be this admin's. */
export function openBackup(text: string, signature: string, wallet: string): Omit<Draft, "admin"> {
  let yaml: string;
  try {
    yaml = utf8(decryptWithSignature(signature, text.trim()));
  } catch {
    throw new BlockhostError(
      "E_CRYPTO",
      "this backup does not open with your wallet's signature (another wallet or another public secret?)",
    );
  }
  let data: ReturnType<typeof backupSchema.parse>;
  try {
    data = backupSchema.parse(parse(yaml, { maxAliasCount: 0 }), "backup");
  } catch (e) {
    throw new BlockhostError("E_INVALID_INPUT", `the backup is not a wizard configuration (${(e as Error).message})`);
  }
  if (data.admin && data.admin.wallet.toLowerCase() !== wallet.toLowerCase()) {
    throw new BlockhostError("E_AUTH_DENIED", `the backup belongs to ${data.admin.wallet}, not ${wallet}`);
  }
  const { admin: _admin, ...rest } = data;
  return rest as Omit<Draft, "admin">;
}
