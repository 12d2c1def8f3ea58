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
  const row = db
    .query(`
    WITH taken(h) AS (SELECT host FROM ip_allocations WHERE family = ?1 UNION SELECT value FROM json_each(?4))
    SELECT MIN(c) AS c FROM (SELECT ?2 AS c UNION SELECT h + 1 FROM taken)
    WHERE c BETWEEN ?2 AND ?3 AND c NOT IN (SELECT h FROM taken)`)
    .get(family, first, last, JSON.stringify(reserved)) as { c: number | null };
  return row.c;
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
  db.query("DELETE FROM ip_allocations WHERE vm_name = ?").run(name);
}

/** How many host numbers in [first, last] of a family are allocated to VMs. */
export function countAllocatedHosts(db: Database, family: 4 | 6, first: number, last: number): number {
  return (
    db
      .query("SELECT COUNT(*) AS n FROM ip_allocations WHERE family = ? AND host BETWEEN ? AND ?")
      .get(family, first, last) as { n: number }
  ).n;
}
