// Path-taking agent actions against a swap by the file's owner between the agent's check and the command's use.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTIONS } from "../../src/agent/actions/index.ts";
import type { ActionContext } from "../../src/agent/actions/types.ts";
import { DEFAULT_BINARIES, type BinaryTable } from "../../src/agent/binaries.ts";
import { createRunner } from "../../src/agent/run.ts";
import { tempDir } from "../helpers/binary.ts";

const { dir: root, cleanup } = tempDir("blockhost-swap-");
const previousRoot = process.env.BLOCKHOST_ROOT;
const record = join(root, "read-by-command.txt");
const secret = join(root, "etc/blockhost/root-only.key");
const image = join(root, "var/lib/blockhost/images/disk.qcow2");

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  mkdirSync(join(root, "etc/blockhost"), { recursive: true });
  mkdirSync(join(root, "var/lib/blockhost/images"), { recursive: true });
  writeFileSync(secret, "ROOT-ONLY-SECRET\n", { mode: 0o600 });
  // Stands in for qm / virt-customize: appends the content of every file argument it was given.
  const reader = join(root, "reader.sh");
  writeFileSync(
    reader,
    `#!/bin/sh\nfor a in "$@"; do if [ -f "$a" ]; then cat "$a" >> '${record}'; fi; done\necho ok\n`,
  );
  chmodSync(reader, 0o755);
  table = { ...DEFAULT_BINARIES, qm: reader, "virt-customize": reader };
});
afterAll(() => {
  if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previousRoot;
  cleanup();
});

let table: BinaryTable = { ...DEFAULT_BINARIES };
const ctx = (): ActionContext => {
  const signal = AbortSignal.timeout(30_000);
  return { peer: { pid: process.pid, uid: 0, gid: 0 }, signal, run: createRunner(table, signal) };
};

const cases: Array<[string, Record<string, unknown>]> = [
  ["qm-importdisk", { vmid: 9000, disk_path: image, storage: "local-lvm" }],
  ["virt-customize", { image_path: image, commands: [["--mkdir", "/opt/x"]] }],
];

describe("a file swapped for a symlink to a root-only file after the check", () => {
  for (const [name, params] of cases) {
    test(`${name}: the command never reads the root-only file`, async () => {
      rmSync(record, { force: true });
      rmSync(image, { force: true });
      writeFileSync(image, "IMAGE\n");
      const action = ACTIONS.get(name)!;
      const parsed = action.params.parse(params, "params"); // the check passes on the real file
      rmSync(image);
      symlinkSync(secret, image); // the worst moment: after the check, before the command
      await expect(action.handler(parsed, ctx())).rejects.toThrow(/is a symbolic link|changed after it was checked/);
      expect(existsSync(record) ? readFileSync(record, "utf8") : "").not.toContain("ROOT-ONLY-SECRET");
      expect(lstatSync(image).isSymbolicLink()).toBe(true); // put back as it was found
      expect(readFileSync(secret, "utf8")).toBe("ROOT-ONLY-SECRET\n");
    });

    test(`${name}: an unswapped file is what the command reads, and it keeps its name`, async () => {
      rmSync(record, { force: true });
      rmSync(image, { force: true });
      writeFileSync(image, "IMAGE\n");
      const action = ACTIONS.get(name)!;
      await action.handler(action.params.parse(params, "params"), ctx());
      expect(readFileSync(record, "utf8")).toBe("IMAGE\n");
      expect(readFileSync(image, "utf8")).toBe("IMAGE\n");
    });
  }
});
