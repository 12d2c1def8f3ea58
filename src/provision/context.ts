/** What every provisioning operation works with. */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { loadBlockhostConfig, loadDbConfig, loadWeb3Config } from "../core/config/index.ts";
import type { DbConfig } from "../core/config/schemas.ts";
import { paths } from "../core/paths.ts";
import { openDatabase, openExistingDatabase } from "../core/state/db.ts";
import type { Plans } from "./plan-of.ts";
import { offeredOs, type OsChoice } from "./os.ts";
import { selectBackend, type Backend, type Say } from "./backends/index.ts";

/** What every provisioning operation works with; the CLI and the engine build one each. */
export interface Provisioner {
  db: Database;
  dbConfig: DbConfig;
  backend: Backend;
  auth: { otpLength: number; otpTtlSeconds: number };
  /** The operating systems offered (blockhost.yaml `os:`); the first is the default. */
  offered: OsChoice[];
  say: Say;
  /** blockhost.yaml `plans:` (sizes and limits by on-chain plan id). */
  plans?: Plans;
}

/** Progress to stderr, one line each. */
export const stderrSay: Say = (line) => process.stderr.write(`${line}\n`);

/**
 * Load db.yaml, blockhost.yaml (backend) and web3-defaults.yaml (login settings, optional), then open the
 * database: configs first, so a broken one is named even on a host without a database. `existing`: a
 * missing database is "not set up yet", never created (for commands that act on VMs that must exist).
 */
export function openProvisioner(
  opts: { db?: Database; backend?: Backend; say?: Say; existing?: boolean } = {},
): Provisioner {
  // No database: "not set up yet" (or the broken config file that is there), before a missing config is reported.
  if (opts.existing && !opts.db && !existsSync(paths.database)) openExistingDatabase();
  const dbConfig = loadDbConfig();
  const cfg = opts.backend && !existsSync(paths.blockhostConfig) ? null : loadBlockhostConfig();
  const backend =
    opts.backend ?? selectBackend(cfg!, undefined, dbConfig.ipv6_pool?.ndp_proxy_dev, dbConfig.vmid_range);
  const auth = existsSync(paths.web3Config) ? loadWeb3Config().auth : { otp_length: 6, otp_ttl_seconds: 300 };
  return {
    db: opts.db ?? (opts.existing ? openExistingDatabase() : openDatabase()),
    dbConfig,
    backend,
    auth: { otpLength: auth.otp_length, otpTtlSeconds: auth.otp_ttl_seconds },
    offered: offeredOs(cfg ?? {}),
    plans: cfg?.plans ?? {},
    say: opts.say ?? stderrSay,
  };
}
