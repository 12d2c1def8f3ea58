/** The `vms` table: one row per VM, mapped to `VmRecord`. */
import type { Database } from "bun:sqlite";
import { BlockhostError } from "../errors.ts";

export type VmStatus = "creating" | "active" | "suspended" | "destroyed";

/** One VM as stored; field names follow the seed's vms.json (plus sizing and subscription). */
export interface VmRecord {
  vm_name: string;
  vmid: number;
  backend: string;
  status: VmStatus;
  ip_address: string | null;
  ipv6_address: string | null;
  owner: string;
  wallet_address: string | null;
  owner_wallet: string | null;
  username: string;
  purpose: string;
  network_mode: string | null;
  cpu: number;
  memory_mb: number;
  disk_gb: number;
  subscription_id: number | null;
  created_at: string;
  expires_at: string;
  suspended_at: string | null;
  destroyed_at: string | null;
  nft_token_id: number | null;
  nft_minted: boolean;
  nft_minted_at: string | null;
  gecos_synced: boolean;
  network_config_synced: boolean;
  /** The Proxmox cluster node that holds the VM as last seen (null: single host, or not yet seen). */
  node: string | null;
  extra: Record<string, unknown>;
}

const BOOLS = ["nft_minted", "gecos_synced", "network_config_synced"] as const;
const COLUMNS = [
  "vm_name",
  "vmid",
  "backend",
  "status",
  "ip_address",
  "ipv6_address",
  "owner",
  "wallet_address",
  "owner_wallet",
  "username",
  "purpose",
  "network_mode",
  "cpu",
  "memory_mb",
  "disk_gb",
  "subscription_id",
  "created_at",
  "expires_at",
  "suspended_at",
  "destroyed_at",
  "nft_token_id",
  "nft_minted",
  "nft_minted_at",
  "gecos_synced",
  "network_config_synced",
  "node",
  "extra",
] as const satisfies readonly (keyof VmRecord)[];

function fromRow(row: Record<string, unknown>): VmRecord {
  const out = { ...row } as Record<string, unknown>;
  for (const b of BOOLS) out[b] = row[b] === 1;
  out.extra = JSON.parse(String(row.extra ?? "{}"));
  return out as unknown as VmRecord;
}

function toParams(vm: Partial<VmRecord>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of Object.entries(vm)) {
    if (v === undefined) continue;
    if (k === "extra") out[k] = JSON.stringify(v);
    else if (typeof v === "boolean") out[k] = v ? 1 : 0;
    else out[k] = v as string | number | null;
  }
  return out;
}

export function getVm(db: Database, name: string): VmRecord | null {
  const row = db.query("SELECT * FROM vms WHERE vm_name = ?").get(name) as Record<string, unknown> | null;
  return row ? fromRow(row) : null;
}

/** The VM of a name, or a one-line E_NOT_FOUND. */
export function requireVm(db: Database, name: string): VmRecord {
  const vm = getVm(db, name);
  if (!vm) throw new BlockhostError("E_NOT_FOUND", `no VM named ${JSON.stringify(name)}`);
  return vm;
}

export function listVms(db: Database, status?: VmStatus): VmRecord[] {
  const rows = status
    ? db.query("SELECT * FROM vms WHERE status = ? ORDER BY vmid").all(status)
    : db.query("SELECT * FROM vms ORDER BY vmid").all();
  return (rows as Record<string, unknown>[]).map(fromRow);
}

export function vmForSubscription(db: Database, subscriptionId: number): VmRecord | null {
  const row = db
    .query("SELECT * FROM vms WHERE subscription_id = ? ORDER BY status = 'destroyed', vmid DESC LIMIT 1")
    .get(subscriptionId) as Record<string, unknown> | null;
  return row ? fromRow(row) : null;
}

/** The live (not destroyed) VM whose credential NFT is `tokenId`. */
export function vmForToken(db: Database, tokenId: number): VmRecord | null {
  const row = db
    .query(
      "SELECT * FROM vms WHERE nft_token_id = ? AND nft_minted = 1 AND status != 'destroyed' ORDER BY vmid DESC LIMIT 1",
    )
    .get(tokenId) as Record<string, unknown> | null;
  return row ? fromRow(row) : null;
}

export function insertVm(
  db: Database,
  vm: Omit<VmRecord, "extra" | "node"> & { extra?: Record<string, unknown>; node?: string | null },
): void {
  const p = toParams({ extra: {}, ...vm });
  // NULL is the column's default: leaving it out keeps inserts working on a database before migration 8.
  if (p.node === null) delete p.node;
  const keys = COLUMNS.filter((c) => c in p);
  db.query(`INSERT INTO vms (${keys.join(", ")}) VALUES (${keys.map((k) => `$${k}`).join(", ")})`).run(p as never);
}

/** Update some fields of one VM; keys are checked against the column list, never interpolated from input. */
export function updateVm(db: Database, name: string, fields: Partial<VmRecord>): void {
  const p = toParams(fields);
  const keys = Object.keys(p).filter((k) => (COLUMNS as readonly string[]).includes(k) && k !== "vm_name");
  if (keys.length === 0) return;
  db.query(`UPDATE vms SET ${keys.map((k) => `${k} = $${k}`).join(", ")} WHERE vm_name = $vm_name`).run({
    ...Object.fromEntries(keys.map((k) => [k, p[k]!])),
    vm_name: name,
  } as never);
}

/** Drop the row of a create that failed before the VM existed (only while still `creating`). */
export function deleteCreatingVm(db: Database, name: string): void {
  db.query("DELETE FROM vms WHERE vm_name = ? AND status = 'creating'").run(name);
}

/** The highest VMID ever recorded (0 when none). */
export function maxVmid(db: Database): number {
  return (db.query("SELECT MAX(vmid) AS m FROM vms").get() as { m: number | null }).m ?? 0;
}

/** Count VMs per status, every status present (0 when none). */
export function countByStatus(db: Database): Record<VmStatus, number> {
  const out: Record<VmStatus, number> = { creating: 0, active: 0, suspended: 0, destroyed: 0 };
  for (const r of db.query("SELECT status, COUNT(*) AS n FROM vms GROUP BY status").all() as {
    status: VmStatus;
    n: number;
  }[])
    out[r.status] = r.n;
  return out;
}

/** Live VMs (creating, active, suspended) per recorded node; null: no node recorded. */
export function countByNode(db: Database): Map<string | null, number> {
  const rows = db.query("SELECT node, COUNT(*) AS n FROM vms WHERE status != 'destroyed' GROUP BY node").all() as {
    node: string | null;
    n: number;
  }[];
  return new Map(rows.map((r) => [r.node, r.n]));
}
