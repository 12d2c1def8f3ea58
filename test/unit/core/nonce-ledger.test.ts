/** The shared nonce ledger: atomic reservations across processes, abandoned reservations, setup intents migrated into it. */
import { afterEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, schemaVersion } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import {
  liveTxFor,
  recordSigned,
  releaseNonce,
  reserveNonce,
  storedNextNonce,
  takeOverGap,
  txAt,
} from "../../../src/core/state/nonces.ts";
import { REPO, tempDir } from "../../helpers/binary.ts";

const KEY = { chainId: 31337, sender: "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266" };
let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function freshDb(): { db: Database; file: string; dir: string } {
  const tmp = tempDir();
  const file = join(tmp.dir, "blockhost.db");
  const db = openDatabase(file);
  cleanups.push(() => {
    db.close();
    tmp.cleanup();
  });
  return { db, file, dir: tmp.dir };
}

/** The pid of a process that has exited (a reserver killed before it signed). */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

const reserve = (db: Database, floor: number, owner = process.pid) =>
  reserveNonce(db, { ...KEY, floor, purpose: "test", owner });

describe("nonce reservations", () => {
  test("next = max(stored next, the caller's floor from the chain); each nonce once", () => {
    const { db } = freshDb();
    expect(storedNextNonce(db, KEY)).toBeNull();
    expect(reserve(db, 5)).toBe(5);
    expect(reserve(db, 0)).toBe(6);
    expect(reserve(db, 3)).toBe(7); // a lagging node's count never goes back
    expect(reserve(db, 20)).toBe(20); // the chain counts more (another wallet used the key): follow it
    expect(storedNextNonce(db, KEY)).toBe(21);
    expect(storedNextNonce(db, { ...KEY, chainId: 1 })).toBeNull(); // each chain counts on its own
    expect(txAt(db, { ...KEY, sender: KEY.sender.toLowerCase(), nonce: 6 })?.state).toBe("reserved");
  });

  test("four processes reserving (and signing) at once get distinct, consecutive nonces", async () => {
    const { db, file, dir } = freshDb();
    const script = join(dir, "reserve.ts");
    writeFileSync(
      script,
      `import { openDatabase } from "${REPO}/src/core/state/db.ts";
import { recordSigned, reserveNonce } from "${REPO}/src/core/state/nonces.ts";
const db = openDatabase(process.argv[2]);
const key = { chainId: ${KEY.chainId}, sender: "${KEY.sender}", owner: process.pid };
const got = [];
for (let i = 0; i < 100; i++) {
  const nonce = reserveNonce(db, { ...key, floor: 0, purpose: "p" });
  recordSigned(db, { ...key, nonce, hash: "0x" + nonce.toString(16), raw: "0x00" });
  got.push(nonce);
}
console.log(JSON.stringify(got));`,
    );
    const runs = Array.from({ length: 4 }, () =>
      Bun.spawn([process.execPath, script, file], { stdout: "pipe", stderr: "inherit" }),
    );
    const outputs = await Promise.all(runs.map(async (p) => JSON.parse(await new Response(p.stdout).text())));
    const all = (outputs as number[][]).flat().sort((a, b) => a - b);
    expect(all).toEqual([...Array(400).keys()]);
    expect(storedNextNonce(db, KEY)).toBe(400);
  });

  test("an unsigned reservation of a dead process is handed out again; a live one's or a signed one is not", async () => {
    const { db } = freshDb();
    const dead = await deadPid();
    expect(reserve(db, 10, process.ppid)).toBe(10); // a live process, not yet signed
    expect(reserve(db, 0, dead)).toBe(11);
    expect(reserve(db, 0, dead)).toBe(12);
    expect(recordSigned(db, { ...KEY, nonce: 12, owner: dead, hash: "0xaa", raw: "0xbb" })).toBe(true);
    expect(reserve(db, 0)).toBe(11); // the dead one's unsigned 11, not the live one's 10 nor the signed 12
    expect(reserve(db, 0)).toBe(13);
    // Below the chain's count a nonce is used already: never handed out again.
    expect(reserve(db, 0, dead)).toBe(14);
    expect(reserve(db, 15)).toBe(15);
    expect(reserve(db, 16)).toBe(16);
    // Signing failed: given back, taken by the next reservation.
    releaseNonce(db, { ...KEY, nonce: 16, owner: process.pid });
    expect(reserve(db, 16, process.ppid)).toBe(16);
    expect(reserve(db, 16, process.ppid)).toBe(17);
  });

  test("a gap taken over for a cancel refuses the old holder's late record; a live, recent holder keeps it", async () => {
    const { db } = freshDb();
    expect(reserve(db, 3, process.ppid)).toBe(3);
    const now = Date.now();
    expect(takeOverGap(db, { ...KEY, nonce: 3, owner: process.pid, purpose: "cancel" }, now - 30_000)).toBe(false);
    expect(takeOverGap(db, { ...KEY, nonce: 3, owner: process.pid, purpose: "cancel" }, now + 1)).toBe(true);
    expect(recordSigned(db, { ...KEY, nonce: 3, owner: process.ppid, hash: "0x01", raw: "0x02" })).toBe(false);
    expect(recordSigned(db, { ...KEY, nonce: 3, owner: process.pid, hash: "0x03", raw: "0x04" })).toBe(true);
    expect(txAt(db, { ...KEY, nonce: 3 })).toMatchObject({ purpose: "cancel", tx_hash: "0x03", state: "signed" });
    // Signed bytes are never taken over: they are re-broadcast instead.
    expect(takeOverGap(db, { ...KEY, nonce: 3, owner: process.pid, purpose: "cancel" }, now + 1)).toBe(false);
  });
});

describe("migration of setup intents into the ledger", () => {
  test("a host upgraded mid-setup finds its signed transaction by purpose (not sent again)", () => {
    const { dir } = freshDb();
    const file = join(dir, "old.db");
    const old = openDatabase(
      file,
      MIGRATIONS.filter((m) => m.version <= 6),
    );
    old
      .query("INSERT INTO setup_intents (key, sender, nonce, tx_hash, raw_tx, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run("plan:Basic:100", KEY.sender, 4, "0xhash", "0xraw", "2026-01-02T03:04:05.000Z");
    old.close();
    const db = openDatabase(file);
    cleanups.push(() => db.close());
    expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(liveTxFor(db, "setup:plan:Basic:100")).toMatchObject({
      sender: KEY.sender.toLowerCase(),
      nonce: 4,
      tx_hash: "0xhash",
      raw_tx: "0xraw",
      state: "signed",
      created_at: Date.parse("2026-01-02T03:04:05.000Z"),
    });
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'setup_intents'").get()).toBeNull();
  });
});
