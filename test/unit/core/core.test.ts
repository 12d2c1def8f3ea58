/** Core: exit codes, schemas, the SQLite store. */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BlockhostError, EXIT, exitCodeFor, oneLine } from "../../../src/core/errors.ts";
import { paths } from "../../../src/core/paths.ts";
import { array, int, literal, object, optional, record, str } from "../../../src/core/schema.ts";
import { migrate, openDatabase, schemaVersion } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { getVm, insertVm, type VmRecord } from "../../../src/core/state/vms.ts";
import { tempDir } from "../../helpers/binary.ts";
import { codeThrownBy } from "../../helpers/errors.ts";

describe("exit codes are mapped in one place", () => {
  test.each([
    ["E_USAGE", EXIT.usage],
    ["E_INVALID_INPUT", EXIT.usage],
    ["E_CONFIG_INVALID", EXIT.config],
    ["E_CONFIG_MISSING", EXIT.config],
    ["E_AGENT_DENIED", EXIT.failure],
    ["E_NOT_FOUND", EXIT.failure],
  ] as const)("%s → %d", (code, exit) => {
    expect(exitCodeFor(new BlockhostError(code, "x"))).toBe(exit);
  });
  test("unknown errors are failures and print as one line", () => {
    expect(exitCodeFor(new Error("boom"))).toBe(1);
    expect(oneLine(new Error("first\n  second"))).toBe("first second");
  });
});

describe("paths hang off BLOCKHOST_ROOT", () => {
  const saved = process.env.BLOCKHOST_ROOT;
  afterEach(() => {
    if (saved === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = saved;
  });
  test("default root is /", () => {
    delete process.env.BLOCKHOST_ROOT;
    expect(paths.agentSocket).toBe("/run/blockhost/root-agent.sock");
    expect(paths.database).toBe("/var/lib/blockhost/blockhost.db");
    expect(paths.config("db.yaml")).toBe("/etc/blockhost/db.yaml");
  });
  test("every path moves with the root", () => {
    process.env.BLOCKHOST_ROOT = "/tmp/bh";
    for (const key of [
      "configDir",
      "stateDir",
      "runDir",
      "agentSocket",
      "database",
      "setupComplete",
      "dbConfig",
    ] as const) {
      expect(paths[key]).toStartWith("/tmp/bh/");
    }
  });
});

describe("schema allowlists", () => {
  const s = object({
    vmid: int(100, 999999),
    proto: optional(literal("tcp", "udp")),
    tags: optional(array(str(/^[a-z]+$/, "a tag"), 0, 3)),
    opts: optional(record(str(/^[a-z]+$/, "a key"), int(0, 9))),
  });
  test("valid input passes and absent optionals stay absent", () => {
    expect(s.parse({ vmid: 100 })).toEqual({ vmid: 100 });
    expect(s.parse({ vmid: 999999, proto: "udp", tags: ["a"], opts: { x: 1 } })).toEqual({
      vmid: 999999,
      proto: "udp",
      tags: ["a"],
      opts: { x: 1 },
    });
  });
  test.each([
    [{ vmid: 99 }, "vmid: expected an integer from 100 to 999999"],
    [{ vmid: 100.5 }, "vmid: expected an integer"],
    [{ vmid: "100" }, "vmid: expected an integer"],
    [{ vmid: 100, extra: 1 }, "extra: unknown key"],
    [{ vmid: 100, proto: "icmp" }, 'proto: expected one of "tcp", "udp"'],
    [{ vmid: 100, tags: ["ok", "NO"] }, "tags[1]: expected a tag"],
    [{ vmid: 100, tags: ["a", "b", "c", "d"] }, "tags: expected a list of 0..3"],
    [{ vmid: 100, opts: { "../x": 1 } }, "opts.../x: expected a key"],
    [[], "value: expected an object"],
    [null, "value: expected an object"],
  ])("%j is refused", (input, message) => {
    expect(codeThrownBy(() => s.parse(input))).toBe("E_SCHEMA");
    expect(() => s.parse(input)).toThrow(message);
  });
  test("strings refuse NUL and over-length input even when the pattern would match", () => {
    const any = str(/^[\s\S]*$/, "text", 5);
    expect(codeThrownBy(() => any.parse("a\0b"))).toBe("E_SCHEMA");
    expect(codeThrownBy(() => any.parse("123456"))).toBe("E_SCHEMA");
  });
  test("unanchored patterns are a programming error", () => {
    expect(() => str(/[a-z]+/, "x")).toThrow("unanchored");
  });
});

describe("SQLite store", () => {
  test("opens in WAL mode and applies every migration once", () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "var/lib/blockhost/blockhost.db");
      const db = openDatabase(file);
      expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
      expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
      db.close();
      const again = openDatabase(file);
      expect(schemaVersion(again)).toBe(MIGRATIONS.at(-1)!.version);
      again.close();
    } finally {
      tmp.cleanup();
    }
  });
  test("a database from the first release with VMs migrates to the latest with its rows intact (an upgrade)", () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "blockhost.db");
      const firstWithVms = MIGRATIONS.findIndex((m) => /CREATE TABLE vms\b/.test(m.sql)) + 1;
      expect(firstWithVms).toBeGreaterThan(0);
      const old = openDatabase(file, MIGRATIONS.slice(0, firstWithVms));
      const vm: VmRecord = {
        vm_name: "blockhost-100",
        vmid: 100,
        backend: "proxmox",
        status: "active",
        ip_address: "192.168.122.200",
        ipv6_address: null,
        owner: "0x1111111111111111111111111111111111111111",
        wallet_address: "0x1111111111111111111111111111111111111111",
        owner_wallet: "0x1111111111111111111111111111111111111111",
        username: "user",
        purpose: "subscription",
        network_mode: null,
        cpu: 1,
        memory_mb: 2048,
        disk_gb: 20,
        subscription_id: 7,
        created_at: "2025-05-01T10:00:00.000Z",
        expires_at: "2099-01-01T00:00:00.000Z",
        suspended_at: null,
        destroyed_at: null,
        nft_token_id: 0,
        nft_minted: true,
        nft_minted_at: "2025-05-01T10:00:05.000Z",
        gecos_synced: true,
        network_config_synced: false,
        node: null,
        extra: { note: "kept" },
      };
      insertVm(old, vm);
      old.close();
      const db = openDatabase(file);
      expect(schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
      expect(getVm(db, "blockhost-100")).toEqual(vm);
      db.close();
    } finally {
      tmp.cleanup();
    }
  });
  test("a failing migration rolls back entirely and keeps the old version", () => {
    const tmp = tempDir();
    try {
      const db = openDatabase(join(tmp.dir, "x.db"), [
        { version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER) STRICT;" },
      ]);
      expect(() =>
        migrate(db, [
          { version: 1, name: "a", sql: "" },
          { version: 2, name: "b", sql: "CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1);" },
        ]),
      ).toThrow();
      expect(schemaVersion(db)).toBe(1);
      expect(db.query("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeNull();
      db.close();
    } finally {
      tmp.cleanup();
    }
  });
  test("a database newer than the binary is refused", () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "x.db");
      openDatabase(file, [
        { version: 1, name: "a", sql: "SELECT 1;" },
        { version: 2, name: "b", sql: "SELECT 1;" },
      ]).close();
      expect(() => openDatabase(file, [{ version: 1, name: "a", sql: "SELECT 1;" }])).toThrow("newer than this binary");
    } finally {
      tmp.cleanup();
    }
  });
});
