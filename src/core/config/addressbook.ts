/** The addressbook file: schema and loader. */
import { existsSync } from "node:fs";
import { paths } from "../paths.ts";
import { object, optional, record, refine, str, type Infer } from "../schema.ts";
import { evmAddress, NAME_RE } from "../validators.ts";
import { loadConfigFile } from "./load.ts";

/**
 * `/etc/blockhost/addressbook.json`: `{ name: { address, keyfile? } }`. Written only by the agent
 * (`addressbook-save`, `generate-wallet`); read by the engine, `blockhost wallet` and `blockhost addressbook`.
 * Names follow the agent's NAME_RE everywhere (the original CLI allowed `_` and capitals that its
 * agent then refused).
 */

/** Roles the system relies on: the addressbook CLI never adds, changes or deletes them. */
export const IMMUTABLE_ROLES: readonly string[] = ["admin", "server", "hot", "dev", "broker"];

export const addressbookName = str(NAME_RE, "a name of lowercase letters, digits and - (1..64 chars)", 64);

/** An absolute path of plain components (the agent additionally confines it to the config dir). */
export const keyfilePath = refine(
  str(/^(\/[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,254})+$/, "an absolute path to a key file", 4096),
  "an absolute path to a key file, without . or .. components",
  (p) => !p.split("/").some((c) => c === "." || c === ".."),
);

export const addressbookEntrySchema = object({ address: evmAddress, keyfile: optional(keyfilePath) });
export const addressbookSchema = record(addressbookName, addressbookEntrySchema, 1000);

export type AddressbookEntry = Infer<typeof addressbookEntrySchema>;
export type Addressbook = Infer<typeof addressbookSchema>;

/** Load and validate the addressbook; a missing file is an empty book, a malformed one a config error (78). */
export function loadAddressbook(file = paths.addressbook): Addressbook {
  if (!existsSync(file)) return {};
  return loadConfigFile(file, addressbookSchema, "json");
}
