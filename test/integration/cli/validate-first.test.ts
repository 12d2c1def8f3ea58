/**
 * The CLI checks its arguments and config files before it opens or creates any state: a bad flag is a
 * usage error that writes nothing, a broken config is named (file and key, exit 78) even on a host with no
 * database yet, and a config file replaced by a FIFO is refused instead of blocking the command.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { runBlockhost } from "../../helpers/binary.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** A configured host (db.yaml, blockhost.yaml; no database yet), removed after `body`. */
async function withHost(body: (root: string) => Promise<void>): Promise<void> {
  const host = provisionRoot();
  try {
    await body(host.root);
  } finally {
    host.cleanup();
  }
}

describe("a bad argument is a usage error (exit 2) and writes nothing", () => {
  const BAD: string[][] = [
    ["vm", "create", "web1", "--owner-wallet", WALLET, "--cpu", "abc"],
    ["vm", "create", "web1", "--owner-wallet", WALLET, "--expiry-days", "x", "--apply"],
    ["vm", "create", "web1", "--owner-wallet", WALLET, "--expires-at", "tomorrow", "--apply"],
    ["vm", "resume", "web1", "--expiry-days", "0"],
    ["vm", "list", "--status", "sleeping"],
    ["gc", "--grace-days", "x"],
    ["gc", "--execute", "--grace-days", "-1"],
    ["finalize"],
    ["finalize", "--retry", "no-such-step", "--config", "/nonexistent/setup.yaml"],
    ["wizard", "--port", "99999"],
    ["engine", "--once", "--no-such-flag"],
    ["status", "--no-such-flag"],
    ["admin", "send", "knock", "--to", "nowhere", "--key-file", "/nonexistent/admin.key"],
  ];

  test.each(BAD.map((a) => [a.join(" "), a] as const))("blockhost %s", async (_title, args) => {
    await withHost(async (root) => {
      const before = tree(root);
      const r = await runBlockhost(args, { root });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toStartWith("blockhost ");
      expect(tree(root)).toEqual(before);
    });
  });
});

describe("a broken config is named (exit 78) on a host with no database yet", () => {
  const COMMANDS: string[][] = [
    ["status"],
    ["vm", "status", "web1"],
    ["vm", "list"],
    ["gc"],
    ["subscriptions", "list"],
    ["vm", "create", "web1", "--owner-wallet", WALLET, "--apply"],
  ];

  test.each(COMMANDS.map((a) => [a.join(" "), a] as const))("blockhost %s", async (_title, args) => {
    await withHost(async (root) => {
      const dbYaml = join(root, "etc/blockhost/db.yaml");
      writeFileSync(dbYaml, "ip_pool: {network: '10.1.0.0/24', start: 10, end: 20, gateway: 'not-an-address'}\n");
      const before = tree(root);
      const r = await runBlockhost(args, { root });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(`${dbYaml}: ip_pool.gateway: expected an IPv4 address`);
      expect(tree(root)).toEqual(before);
    });
  });
});

describe("a config file that is a FIFO is refused, never waited on", () => {
  // A hang would be the failure: the command has no writer to wait for. The test's timeout bounds it.
  const CASES: Array<[string, string, string[]]> = [
    ["db.yaml", "status", ["status"]],
    ["blockhost.yaml", "vm create --apply", ["vm", "create", "web1", "--owner-wallet", WALLET, "--apply"]],
    ["db.yaml", "gc --execute", ["gc", "--execute"]],
  ];

  test.each(CASES)(
    "%s as a FIFO: blockhost %s exits 78 naming it",
    async (name, _title, args) => {
      await withHost(async (root) => {
        const file = join(root, "etc/blockhost", name);
        rmSync(file);
        const made = Bun.spawnSync(["/usr/bin/mkfifo", "-m", "0644", file]);
        expect(made.exitCode).toBe(0);
        const r = await runBlockhost(args, { root });
        expect(r.code).toBe(78);
        expect(r.stderr).toContain(`${file}: not a regular file`);
      });
    },
    30_000,
  );
});
