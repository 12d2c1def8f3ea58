/** Open the SQLite database and apply its migrations. */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { loadBlockhostConfig, loadDbConfig, loadHttpsConfig, loadWeb3Config } from "../config/index.ts";
import { BlockhostError } from "../errors.ts";
import { paths } from "../paths.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";

/**
 * Open the BlockHost database (WAL, foreign keys on) and bring its schema up to date.
 * Each migration runs in its own transaction and bumps `PRAGMA user_version`.
 */
export function openDatabase(file = paths.database, migrations: readonly Migration[] = MIGRATIONS): Database {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  let db: Database;
  try {
    db = new Database(file, { create: true, strict: true });
  } catch (e) {
    throw new BlockhostError("E_IO", `${file}: cannot open database (${(e as Error).message})`);
  }
  // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
  db.run("PRAGMA busy_timeout = 5000");
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA foreign_keys = ON");
  db.run("PRAGMA synchronous = NORMAL");
  migrate(db, migrations);
  return db;
}

/**
 * The database of a host that is set up, for commands that only read: a missing database is
 * "not set up yet" (exit 1, with what to run), never created.
 */
export function openExistingDatabase(file = paths.database): Database {
  if (!existsSync(file)) {
    // A config file that is there but broken is the more useful answer: name its file and key (exit 78).
    checkPresentConfigs();
    throw new BlockhostError(
      "E_NOT_SET_UP",
      `not set up yet: no database at ${file} ` +
        "(set the host up with the wizard or `blockhost finalize --config FILE`)",
      { file },
    );
  }
  return openDatabase(file);
}

/** Load every host config file that exists, so the first invalid one throws its E_CONFIG_INVALID. */
function checkPresentConfigs(): void {
  const loaders: Array<[string, () => unknown]> = [
    [paths.blockhostConfig, () => loadBlockhostConfig()],
    [paths.dbConfig, () => loadDbConfig()],
    [paths.web3Config, () => loadWeb3Config()],
    [paths.httpsConfig, () => loadHttpsConfig()],
  ];
  for (const [file, load] of loaders) if (existsSync(file)) load();
}

export function schemaVersion(db: Database): number {
  return (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
}

export function migrate(db: Database, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new BlockhostError(
      "E_STATE",
      `database schema v${current} is newer than this binary knows (v${latest}); upgrade blockhost`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    // IMMEDIATE takes the write lock up front (busy_timeout waits for it), and the version is
    // re-read under it: two processes opening a fresh database must not both apply a migration.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      db.run(m.sql);
      db.run(`PRAGMA user_version = ${m.version}`);
    }).immediate();
  }
}
