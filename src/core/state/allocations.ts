/** The `ip_allocations` and `counters` tables: addresses taken by VMs, and the VMID counter. */
import type { Database } from "bun:sqlite";

const NEXT_VMID = "next_vmid";

/** The stored next VMID, or null before the first allocation. */
export function storedNextVmid(db: Database): number | null {
  const row = db.query("SELECT value FROM counters WHERE name = ?").get(NEXT_VMID) as { value: number } | null;
  return row?.value ?? null;
}

/** Set the next VMID (inside the allocating transaction). */
export function setNextVmid(db: Database, value: number): void {
  db.query("INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = ?2").run(
    NEXT_VMID,
    value,
  );
}

/** Raise the VMID counter (after an import) so imported VMIDs are never handed out again. */
export function bumpVmidCounter(db: Database, atLeast: number): void {
  db.query(
    "INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = MAX(value, ?2)",
  ).run(NEXT_VMID, atLeast);
}

/**
 * The lowest free host number in [first, last]: a candidate is the pool start or the successor of
 * a taken/reserved host, so the search is one indexed query however many VMs exist.
 */
export function lowestFreeHost(
  db: Database,
  family: 4 | 6,
  first: number,
  last: number,
  reserved: number[],
): number | null {
  // Hosts below the stored mark are all taken (see markAllocated): the search starts there, not at every VM.
  const from = Math.max(first, freeFrom(db, family, first) ?? first);
  const row = db
    .query(`
    WITH taken(h) AS (SELECT host FROM ip_allocations WHERE family = ?1 AND host >= ?2 - 1
      UNION SELECT value FROM json_each(?4))
    SELECT MIN(c) AS c FROM (SELECT ?2 AS c UNION SELECT h + 1 FROM taken)
    WHERE c BETWEEN ?2 AND ?3 AND c NOT IN (SELECT h FROM taken)`)
    .get(family, from, last, JSON.stringify(reserved)) as { c: number | null };
  return row.c;
}

const freeFromKey = (family: 4 | 6, first: number) => `ip${family}_free_from:${first}`;

function freeFrom(db: Database, family: 4 | 6, first: number): number | null {
  const row = db.query("SELECT value FROM counters WHERE name = ?").get(freeFromKey(family, first)) as {
    value: number;
  } | null;
  return row?.value ?? null;
}

/**
 * After `host` was handed out as the lowest free host of the pool starting at `first`: every host
 * up to it is taken, so later searches start above it. Runs inside the allocating transaction.
 */
export function markAllocated(db: Database, family: 4 | 6, first: number, host: number): void {
  db.query("INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = ?2").run(
    freeFromKey(family, first),
    host + 1,
  );
}

/** Mark one address as taken by a VM (allocation, or import of a legacy database). */
export function reserveAddress(db: Database, family: 4 | 6, address: string, host: number, vmName: string): void {
  db.query("INSERT INTO ip_allocations (family, address, host, vm_name) VALUES (?, ?, ?, ?)").run(
    family,
    address,
    host,
    vmName,
  );
}

/** Free the VM's addresses (its VMID stays burnt: the counter never goes back). */
export function releaseAddresses(db: Database, name: string): void {
  db.transaction(() => {
    const freed = db.query("SELECT family, host FROM ip_allocations WHERE vm_name = ?").all(name) as Array<{
      family: number;
      host: number;
    }>;
    // A freed host below a pool's search mark is the lowest free one again.
    for (const f of freed)
      db.query("UPDATE counters SET value = MIN(value, ?2) WHERE name LIKE ?1").run(
        `ip${f.family}_free_from:%`,
        f.host,
      );
    db.query("DELETE FROM ip_allocations WHERE vm_name = ?").run(name);
  })();
}

/** How many host numbers in [first, last] of a family are allocated to VMs. */
export function countAllocatedHosts(db: Database, family: 4 | 6, first: number, last: number): number {
  return (
    db
      .query("SELECT COUNT(*) AS n FROM ip_allocations WHERE family = ? AND host BETWEEN ? AND ?")
      .get(family, first, last) as { n: number }
  ).n;
}
