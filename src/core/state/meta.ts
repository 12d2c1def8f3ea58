/** The `meta` table: small named values (the engine's heartbeat, settings markers). */
import type { Database } from "bun:sqlite";

export function getMeta(db: Database, key: string): string | null {
  return (db.query("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | null)?.value ?? null;
}

/** Set a value; null deletes the key. */
export function setMeta(db: Database, key: string, value: string | null): void {
  if (value === null) db.query("DELETE FROM meta WHERE key = ?").run(key);
  else
    db.query("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2").run(key, value);
}
