/** Where the agent writes cloud-init snippets: the directory pve-storage's get_subdir reads them from (N4). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { snippetDirOf } from "../../../src/agent/pve-storage.ts";
import { tempDir } from "../../helpers/binary.ts";

const { dir: root, cleanup } = tempDir("blockhost-pvestorage-");
const previous = process.env.BLOCKHOST_ROOT;
const storageCfg = (text: string) => writeFileSync(join(root, "etc/pve/storage.cfg"), text);

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  mkdirSync(join(root, "etc/pve"), { recursive: true });
});
afterAll(() => {
  if (previous === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previous;
  cleanup();
});

test("content-dirs overrides the snippets subdirectory, relative to the storage path", () => {
  storageCfg(
    "dir: vmstore\n\tpath /srv/vmstore\n\tcontent images,snippets\n\tcontent-dirs snippets=ci-snippets,iso=isos\n",
  );
  expect(snippetDirOf("vmstore")).toBe(join(root, "srv/vmstore/ci-snippets"));
  storageCfg("nfs: shared\n\texport /x\n\tserver 192.0.2.9\n\tcontent snippets\n");
  expect(snippetDirOf("shared")).toBe(join(root, "mnt/pve/shared/snippets"));
});

test("`local` is always dir /var/lib/vz, as PVE forces it; its own content-dirs still count", () => {
  storageCfg("dir: local\n\tpath /srv/elsewhere\n\tcontent snippets\n");
  expect(snippetDirOf("local")).toBe(join(root, "var/lib/vz/snippets"));
  storageCfg("lvmthin: local\n\tthinpool data\n\tvgname pve\n");
  expect(snippetDirOf("local")).toBe(join(root, "var/lib/vz/snippets"));
  storageCfg("dir: local\n\tpath /var/lib/vz\n\tcontent-dirs snippets=cloud\n");
  expect(snippetDirOf("local")).toBe(join(root, "var/lib/vz/cloud"));
  storageCfg("");
  expect(snippetDirOf("local")).toBe(join(root, "var/lib/vz/snippets"));
});

test("a storage without files, or an override leaving the storage, is refused", () => {
  storageCfg("lvm: san\n\tvgname san\n\ndir: d\n\tpath /srv/d\n\tcontent-dirs snippets=../../etc\n");
  expect(() => snippetDirOf("san")).toThrow("snippet storage 'san' is of type lvm, which holds no files");
  expect(() => snippetDirOf("d")).toThrow("has an unusable snippets path");
  expect(() => snippetDirOf("nope")).toThrow("snippet storage 'nope' is not defined");
});
