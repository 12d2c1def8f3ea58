/** `blockhost addressbook` with a running agent. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";
import { V } from "../../unit/crypto/vectors.ts";

/** `blockhost addressbook …` end to end: the compiled binary, writing through a real `blockhost agent`. */
const ADMIN = V.keys[0]!.address; // 0x7E5F…, key 1
const SERVER = V.keys[3]!;
const DEV = V.keys[1]!.address;
const OTHER = V.keys[4]!.address;

let agent: RunningAgent;
let root: string;
const ab = (...args: string[]) => runBlockhost(["addressbook", ...args], { root });
const bookFile = () => join(root, "etc/blockhost/addressbook.json");
const book = () =>
  JSON.parse(readFileSync(bookFile(), "utf8")) as Record<string, { address: string; keyfile?: string }>;

beforeAll(async () => {
  agent = await startAgent();
  root = agent.root;
});
afterAll(async () => {
  await agent?.stop();
});

describe("blockhost addressbook with a running agent", () => {
  test("list on a missing addressbook says it is empty; --json prints {}", async () => {
    expect((await ab("list")).stdout).toMatch(/^the addressbook is empty/);
    expect(JSON.parse((await ab("list", "--json")).stdout)).toEqual({});
  });

  test("init refuses a server key file that belongs to another address", async () => {
    mkdirSync(join(root, "etc/blockhost"), { recursive: true });
    const keyfile = join(root, "etc/blockhost/deployer.key");
    writeFileSync(keyfile, V.keys[4]!.private_key, { mode: 0o640 });
    const r = await ab("init", ADMIN, SERVER.address, keyfile);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`holds the key of ${V.keys[4]!.address}, not of the server address`);
    expect(existsSync(bookFile())).toBe(false);
  });

  test("init ADMIN SERVER DEV KEYFILE fills the book through the agent (0640, checksummed)", async () => {
    const keyfile = join(root, "etc/blockhost/deployer.key");
    writeFileSync(keyfile, SERVER.private_key, { mode: 0o640 });
    const r = await ab("init", ADMIN.toLowerCase(), SERVER.address, DEV, keyfile);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(book()).toEqual({
      admin: { address: ADMIN },
      server: { address: SERVER.address, keyfile },
      dev: { address: DEV },
    });
    expect(statSync(bookFile()).mode & 0o777).toBe(0o640);
    const again = await ab("init", ADMIN, SERVER.address, keyfile);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has entries/);
  });

  test("add, up, del a custom entry; list shows it", async () => {
    expect((await ab("add", "alice", OTHER.toLowerCase())).code).toBe(0);
    expect(book().alice).toEqual({ address: OTHER });
    expect((await ab("list")).stdout).toMatch(new RegExp(`^alice +${OTHER}$`, "m"));
    expect((await ab("up", "alice", ADMIN)).stdout).toBe(`updated alice ${ADMIN}\n`);
    expect(book().alice).toEqual({ address: ADMIN });
    expect((await ab("del", "alice")).code).toBe(0);
    expect(Object.keys(book()).sort()).toEqual(["admin", "dev", "server"]);
  });

  test("new NAME has the agent generate a key file (0640) whose address is recorded and printed", async () => {
    const r = await ab("new", "payout-1");
    expect(r.code).toBe(0);
    const address = r.stdout.trim();
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const keyfile = join(root, "etc/blockhost/payout-1.key");
    expect(book()["payout-1"]).toEqual({ address, keyfile });
    expect(statSync(keyfile).mode & 0o777).toBe(0o640);
    const derived = await runBlockhost(["crypto", "key-to-address", "--private-key-file", keyfile], { root });
    expect(derived.stdout.trim()).toBe(address);
    const json = JSON.parse((await ab("list", "--json")).stdout);
    expect(json["payout-1"]).toEqual({ address, keyfile });

    const dup = await ab("new", "payout-1");
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already in the addressbook/);
    // del keeps the key file
    expect((await ab("del", "payout-1")).stdout).toContain("kept");
    expect(existsSync(keyfile)).toBe(true);
  });

  test.each([
    [["add", "My_Name", OTHER], /name "My_Name": expected a name of lowercase letters/],
    [["add", "server", OTHER], /"server" is a system role/],
    [["del", "admin"], /"admin" is a system role/],
    [["up", "dev", OTHER], /"dev" is a system role/],
    [["new", "hot"], /"hot" is a system role/],
    [["add", "bob", "0x1234"], /expected a 0x-prefixed 20-byte hex address/],
    [["add", "bob"], /missing argument <WALLET>/],
    [["add", "bob", OTHER, "extra"], /unexpected argument/],
  ] as const)("%j is refused with exit 2 before reaching the agent", async (args, message) => {
    const before = readFileSync(bookFile(), "utf8");
    const r = await ab(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(readFileSync(bookFile(), "utf8")).toBe(before);
  });

  test("up/del of a missing entry, add of an existing one: exit 1", async () => {
    expect((await ab("up", "nobody", OTHER)).code).toBe(1);
    expect((await ab("del", "nobody")).code).toBe(1);
    expect((await ab("add", "dev-2", OTHER)).code).toBe(0);
    const dup = await ab("add", "dev-2", OTHER);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already in the addressbook \(use: blockhost addressbook up dev-2 ADDRESS\)/);
  });
});

describe("blockhost addressbook without an agent", () => {
  test("a write fails with one line naming the socket (exit 1); reads still work", async () => {
    const tmp = tempDir();
    try {
      const r = await runBlockhost(["addressbook", "add", "bob", OTHER], { root: tmp.dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/root agent not reachable at .*root-agent\.sock/);
      expect((await runBlockhost(["addressbook", "list", "--json"], { root: tmp.dir })).stdout.trim()).toBe("{}");
    } finally {
      tmp.cleanup();
    }
  });

  test("a malformed addressbook.json is a config error (exit 78) naming the file and key", async () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.dir, "etc/blockhost"), { recursive: true });
      writeFileSync(join(tmp.dir, "etc/blockhost/addressbook.json"), JSON.stringify({ admin: { address: "0xnope" } }));
      const r = await runBlockhost(["addressbook", "list"], { root: tmp.dir });
      expect(r.code).toBe(78);
      expect(r.stderr).toMatch(/addressbook\.json: admin\.address: expected a 0x-prefixed 20-byte hex address/);
    } finally {
      tmp.cleanup();
    }
  });
});
