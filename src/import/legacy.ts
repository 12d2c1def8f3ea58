/** Reading an original BlockHost host: its config files checked against our schemas, its VM database's NFT links. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../core/config/index.ts";
import { blockhostConfigSchema, dbConfigSchema, web3ConfigSchema } from "../core/config/schemas.ts";
import { BlockhostError } from "../core/errors.ts";
import type { Schema } from "../core/schema.ts";

/** The original's YAML files, each read by the schema our services load it with. */
export const LEGACY_CONFIGS: ReadonlyArray<[string, Schema<unknown>]> = [
  ["db.yaml", dbConfigSchema as Schema<unknown>],
  ["web3-defaults.yaml", web3ConfigSchema as Schema<unknown>],
  ["blockhost.yaml", blockhostConfigSchema as Schema<unknown>],
];

/** Other files of /etc/blockhost our services read as they are (the agent's config-write accepts each). */
export const LEGACY_FILES = [
  "server.key",
  "server.pubkey",
  "deployer.key",
  "admin-signature.key",
  "addressbook.json",
  "admin-commands.json",
  "broker-allocation.json",
  "revenue-share.json",
  "https.json",
  "admin.json",
  "network-mode",
] as const;

export interface ConfigCheck {
  file: string;
  ok: boolean;
  error?: string;
}

/** Check each original YAML file in `dir` with our loaders' schemas (a missing file is reported, not an error). */
export function checkLegacyConfigs(dir: string): ConfigCheck[] {
  return LEGACY_CONFIGS.map(([name, schema]) => {
    const file = join(dir, name);
    if (!existsSync(file)) return { file, ok: false, error: "missing" };
    try {
      loadConfigFile(file, schema);
      return { file, ok: true };
    } catch (e) {
      return { file, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  });
}

interface Reservation {
  vm_name?: unknown;
  status?: unknown;
  owner_wallet?: unknown;
  minted_at?: unknown;
}

/**
 * Older vms.json files link tokens to VMs only in `reserved_nft_tokens` ({"<id>": {vm_name, status, owner_wallet?,
 * minted_at?}}). Copy each minted reservation onto its VM record (unless the record already names a token), so the
 * import keeps the token↔VM link. Reservations never minted are returned, to be reported, not linked.
 */
export function applyReservedTokens(
  data: unknown,
  where: string,
): { data: unknown; linked: string[]; unminted: string[] } {
  const linked: string[] = [];
  const unminted: string[] = [];
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { data, linked, unminted };
  const db = data as { vms?: Record<string, Record<string, unknown>>; reserved_nft_tokens?: unknown };
  const reserved = db.reserved_nft_tokens;
  if (reserved === undefined || reserved === null) return { data, linked, unminted };
  if (typeof reserved !== "object" || Array.isArray(reserved)) {
    throw new BlockhostError("E_INVALID_INPUT", `${where}: reserved_nft_tokens: expected an object of token ids`);
  }
  const vms = { ...(db.vms ?? {}) };
  for (const [id, r] of Object.entries(reserved as Record<string, Reservation>)) {
    if (!/^\d{1,15}$/.test(id))
      throw new BlockhostError("E_INVALID_INPUT", `${where}: reserved_nft_tokens.${id}: expected a token id`);
    const name = typeof r?.vm_name === "string" ? r.vm_name : undefined;
    const vm = name === undefined ? undefined : Object.entries(vms).find(([k, v]) => (v?.vm_name ?? k) === name);
    if (r?.status !== "minted" || !vm) {
      unminted.push(`${id}${name ? ` (${name}, ${String(r?.status)})` : ""}`);
      continue;
    }
    const [key, record] = vm;
    if (record.nft_token_id !== undefined && record.nft_token_id !== null) continue;
    vms[key] = {
      ...record,
      nft_token_id: Number(id),
      nft_minted: true,
      nft_minted_at: record.nft_minted_at ?? r.minted_at ?? null,
      owner_wallet: record.owner_wallet ?? r.owner_wallet ?? null,
    };
    linked.push(`${id}→${name}`);
  }
  return { data: { ...db, vms }, linked, unminted };
}
