/** Addressbook edits. */
import { describe, expect, test } from "bun:test";
import { addEntry, deleteEntry, initBook, newWalletName, updateEntry } from "../../../src/addressbook/edit.ts";
import { addressbookSchema } from "../../../src/core/config/addressbook.ts";
import { BlockhostError, exitCodeFor } from "../../../src/core/errors.ts";

const A = "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf";
const A_SUM = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf";
const B_SUM = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF";
const base = {
  admin: { address: A_SUM },
  server: { address: B_SUM, keyfile: "/etc/blockhost/deployer.key" },
  alice: { address: A_SUM, keyfile: "/etc/blockhost/alice.key" },
};

const fails = (f: () => unknown, message: RegExp, exit: number) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BlockhostError);
  expect((err as Error).message).toMatch(message);
  expect(exitCodeFor(err)).toBe(exit);
};

describe("addressbook edits", () => {
  test("add checksums the address and leaves the input book alone", () => {
    const book = addEntry(base, "bob", A);
    expect(book.bob).toEqual({ address: A_SUM });
    expect(Object.hasOwn(base, "bob")).toBe(false);
    expect(addressbookSchema.parse(book)).toEqual(book);
  });

  test("names follow the agent's rule (lowercase, digits, -), so the agent never refuses what the CLI accepted", () => {
    fails(() => addEntry(base, "My_Name", A), /name "My_Name": expected a name of lowercase letters/, 2);
    fails(() => addEntry(base, "a".repeat(65), A), /expected a name/, 2);
    expect(addEntry(base, "a".repeat(64), A)["a".repeat(64)]).toBeDefined();
    fails(() => newWalletName("a".repeat(33)), /at most 32/, 2);
  });

  test.each(["admin", "server", "hot", "dev", "broker"])(
    "system role %s cannot be added, changed, deleted or generated",
    (role) => {
      fails(() => addEntry({}, role, A), /system role/, 2);
      fails(() => updateEntry(base, role, A), /system role/, 2);
      fails(() => deleteEntry(base, role), /system role/, 2);
      fails(() => newWalletName(role), /system role/, 2);
    },
  );

  test("add refuses an existing name; up and del refuse a missing one", () => {
    fails(() => addEntry(base, "alice", A), /already in the addressbook/, 1);
    fails(() => updateEntry(base, "carol", A), /not in the addressbook/, 1);
    fails(() => deleteEntry(base, "carol"), /not in the addressbook/, 1);
  });

  test("up keeps the keyfile; del drops only that entry", () => {
    expect(updateEntry(base, "alice", B_SUM.toLowerCase()).alice).toEqual({
      address: B_SUM,
      keyfile: "/etc/blockhost/alice.key",
    });
    expect(Object.keys(deleteEntry(base, "alice"))).toEqual(["admin", "server"]);
  });

  test("bad addresses are refused", () => {
    fails(() => addEntry(base, "bob", "0x1234"), /address "0x1234": expected a 0x-prefixed 20-byte hex address/, 2);
    fails(() => addEntry(base, "bob", "7e5f4552091a69125d5dfcb7b8c2659029395bdf"), /expected a 0x/, 2);
  });

  test("init fills an empty book with admin, server + keyfile and optional dev/broker; refuses a non-empty one", () => {
    expect(initBook({}, { admin: A, server: B_SUM, serverKeyfile: "/etc/blockhost/deployer.key" })).toEqual({
      admin: { address: A_SUM },
      server: { address: B_SUM, keyfile: "/etc/blockhost/deployer.key" },
    });
    const full = initBook(
      {},
      { admin: A, server: B_SUM, serverKeyfile: "/etc/blockhost/deployer.key", dev: A, broker: B_SUM },
    );
    expect(Object.keys(full)).toEqual(["admin", "server", "dev", "broker"]);
    fails(() => initBook(base, { admin: A, server: B_SUM, serverKeyfile: "/k" }), /already has entries/, 1);
    fails(() => initBook({}, { admin: A, server: B_SUM, serverKeyfile: "relative.key" }), /server keyfile/, 2);
    fails(
      () => initBook({}, { admin: A, server: B_SUM, serverKeyfile: "/etc/blockhost/../shadow" }),
      /server keyfile/,
      2,
    );
  });

  test("the file schema refuses unknown keys and bad names", () => {
    expect(() => addressbookSchema.parse({ admin: { address: A_SUM, extra: 1 } })).toThrow(/admin.extra/);
    expect(() => addressbookSchema.parse({ Admin: { address: A_SUM } })).toThrow(/Admin/);
  });
});
