/** Versioned schema changes, applied in order; never edit a released one, append a new one. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "meta",
    sql: `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;`,
  },
  {
    version: 2,
    name: "provisioning and engine",
    sql: `
CREATE TABLE vms (
  vm_name TEXT PRIMARY KEY,
  vmid INTEGER NOT NULL,
  backend TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('creating','active','suspended','destroyed')),
  ip_address TEXT,
  ipv6_address TEXT,
  owner TEXT NOT NULL DEFAULT 'admin',
  wallet_address TEXT,
  owner_wallet TEXT,
  username TEXT NOT NULL DEFAULT 'admin',
  purpose TEXT NOT NULL DEFAULT '',
  network_mode TEXT,
  cpu INTEGER NOT NULL DEFAULT 1,
  memory_mb INTEGER NOT NULL DEFAULT 2048,
  disk_gb INTEGER NOT NULL DEFAULT 20,
  subscription_id INTEGER,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  suspended_at TEXT,
  destroyed_at TEXT,
  nft_token_id INTEGER,
  nft_minted INTEGER NOT NULL DEFAULT 0,
  nft_minted_at TEXT,
  gecos_synced INTEGER NOT NULL DEFAULT 0,
  network_config_synced INTEGER NOT NULL DEFAULT 0,
  extra TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE UNIQUE INDEX vms_subscription ON vms(subscription_id) WHERE subscription_id IS NOT NULL AND status != 'destroyed';
CREATE INDEX vms_status ON vms(status);
CREATE TABLE ip_allocations (
  family INTEGER NOT NULL CHECK (family IN (4, 6)),
  address TEXT NOT NULL,
  host INTEGER NOT NULL,
  vm_name TEXT NOT NULL,
  PRIMARY KEY (family, address)
) STRICT;
CREATE INDEX ip_allocations_host ON ip_allocations(family, host);
CREATE INDEX ip_allocations_vm ON ip_allocations(vm_name);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL CHECK (state IN ('queued','running','failed','done','dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs(state, next_run_at);
CREATE TABLE chain_cursor (chain_id INTEGER PRIMARY KEY, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL) STRICT;
CREATE TABLE chain_blocks (chain_id INTEGER NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL, PRIMARY KEY (chain_id, block_number)) STRICT;
CREATE TABLE processed_logs (
  chain_id INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (chain_id, tx_hash, log_index)
) STRICT;
CREATE TABLE subscriptions (
  chain_id INTEGER NOT NULL,
  subscription_id INTEGER NOT NULL,
  subscriber TEXT NOT NULL,
  plan_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  cancelled INTEGER NOT NULL DEFAULT 0,
  user_encrypted TEXT NOT NULL,
  block_number INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  PRIMARY KEY (chain_id, subscription_id)
) STRICT;`,
  },
  {
    version: 3,
    name: "vm lookups by subscription, token and wallet",
    sql: `
CREATE INDEX vms_subscription_any ON vms(subscription_id);
CREATE INDEX vms_token ON vms(nft_token_id);
CREATE INDEX vms_wallet ON vms(wallet_address COLLATE NOCASE);`,
  },
  {
    version: 4,
    name: "fund manager, admin commands and knocks",
    sql: `
CREATE TABLE fund_timers (name TEXT PRIMARY KEY, last_at INTEGER NOT NULL DEFAULT 0, retry_at INTEGER) STRICT;
CREATE TABLE fund_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, expires_at INTEGER NOT NULL) STRICT;
CREATE TABLE fund_transfers (
  id INTEGER PRIMARY KEY,
  cycle TEXT NOT NULL,
  step TEXT NOT NULL,
  token TEXT NOT NULL,
  from_address TEXT NOT NULL,
  to_address TEXT NOT NULL,
  amount TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  tx_hash TEXT NOT NULL UNIQUE,
  raw_tx TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('signed','done','reverted','dropped')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX fund_transfers_state ON fund_transfers(state);
CREATE TABLE admin_nonces (nonce TEXT PRIMARY KEY, command_ts INTEGER NOT NULL, tx_hash TEXT NOT NULL, seen_at INTEGER NOT NULL) STRICT;
CREATE TABLE admin_scan (chain_id INTEGER NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
  PRIMARY KEY (chain_id, block_number)) STRICT;
CREATE TABLE knocks (
  id INTEGER PRIMARY KEY,
  tx_hash TEXT NOT NULL UNIQUE,
  command TEXT NOT NULL,
  phase TEXT NOT NULL CHECK (phase IN ('open','narrowed','closed')),
  rules TEXT NOT NULL,
  source TEXT,
  deadline INTEGER NOT NULL,
  opened_at INTEGER NOT NULL,
  login_cursor INTEGER NOT NULL DEFAULT 0,
  closed_at INTEGER
) STRICT;
CREATE INDEX knocks_live ON knocks(phase);`,
  },
  {
    version: 5,
    name: "setup steps and chain intents",
    sql: `
CREATE TABLE setup_steps (
  step TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending','running','done','failed')),
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  started_at TEXT,
  completed_at TEXT,
  result TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE TABLE setup_intents (
  key TEXT PRIMARY KEY,
  sender TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  raw_tx TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE TABLE setup_lock (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, since TEXT NOT NULL) STRICT;`,
  },
  {
    version: 6,
    name: "engine throughput indexes",
    // A claim and a VMID pick must not scan every job or VM: a 5,000-purchase catch-up made them quadratic.
    sql: `
CREATE INDEX vms_vmid ON vms(vmid);
CREATE INDEX jobs_claim ON jobs(kind, next_run_at, id) WHERE state IN ('queued', 'failed');`,
  },
  {
    version: 7,
    name: "one nonce ledger per sending key, shared by engine, serve, finalize and the fund manager",
    // Setup intents become ledger rows (chain 0: the chain they were sent on was not recorded), so a host
    // upgraded mid-setup finds its signed transactions and does not send them again.
    sql: `
CREATE TABLE sender_nonces (
  chain_id INTEGER NOT NULL,
  sender TEXT NOT NULL,
  next_nonce INTEGER NOT NULL,
  PRIMARY KEY (chain_id, sender)
) STRICT;
CREATE TABLE sent_txs (
  chain_id INTEGER NOT NULL,
  sender TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  purpose TEXT NOT NULL,
  owner_pid INTEGER NOT NULL,
  tx_hash TEXT,
  raw_tx TEXT,
  state TEXT NOT NULL CHECK (state IN ('reserved','signed','done','reverted','dropped')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (chain_id, sender, nonce)
) STRICT;
CREATE INDEX sent_txs_unsigned ON sent_txs(chain_id, sender, nonce) WHERE raw_tx IS NULL;
INSERT OR REPLACE INTO sent_txs (chain_id, sender, nonce, purpose, owner_pid, tx_hash, raw_tx, state, created_at,
  updated_at) SELECT 0, lower(sender), nonce, 'setup:' || key, 0, tx_hash, raw_tx, 'signed',
    CAST(strftime('%s', created_at) AS INTEGER) * 1000, CAST(strftime('%s', created_at) AS INTEGER) * 1000
  FROM setup_intents ORDER BY created_at;
DROP TABLE setup_intents;`,
  },
  {
    version: 8,
    name: "the Proxmox cluster node each VM runs on",
    // NULL: a single-node host (local qm) or a VM recorded before; the reconciler fills it in on a cluster.
    sql: `ALTER TABLE vms ADD COLUMN node TEXT;`,
  },
  {
    version: 9,
    name: "per-VM usage: monotonic counters and minute/hour points",
    // Owned by core/state/usage.ts. Points are keyed by bucket, so a VM holds a bounded number of rows.
    sql: `
CREATE TABLE usage_counters (
  vm_name TEXT PRIMARY KEY,
  instance TEXT NOT NULL,
  at INTEGER NOT NULL,
  booted_at INTEGER,
  raw_cpu_ns INTEGER NOT NULL, raw_rx_bytes INTEGER NOT NULL, raw_tx_bytes INTEGER NOT NULL,
  raw_read_bytes INTEGER NOT NULL, raw_write_bytes INTEGER NOT NULL,
  cpu_ns INTEGER NOT NULL, rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT NULL,
  read_bytes INTEGER NOT NULL, write_bytes INTEGER NOT NULL
) STRICT;
CREATE TABLE usage_points (
  vm_name TEXT NOT NULL,
  step INTEGER NOT NULL CHECK (step IN (60, 3600)),
  at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  cpu_ns INTEGER NOT NULL, rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT NULL,
  read_bytes INTEGER NOT NULL, write_bytes INTEGER NOT NULL,
  mem_sum_bytes INTEGER NOT NULL, mem_max_bytes INTEGER NOT NULL, samples INTEGER NOT NULL,
  PRIMARY KEY (vm_name, step, at)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_points_age ON usage_points(step, at);`,
  },
];
