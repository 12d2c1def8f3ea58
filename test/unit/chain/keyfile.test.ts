/** Key file loading. */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadKeyFile } from "../../../src/crypto/keyfile.ts";
import { BlockhostError } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/binary.ts";

const tmp = tempDir("blockhost-keyfile-");
afterAll(() => tmp.cleanup());
// anvil's first dev key: public knowledge, test ETH only.
const KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

function keyFile(name: string, text: string, mode: number): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}

function refusal(file: string): BlockhostError {
  try {
    loadKeyFile(file);
  } catch (e) {
    expect(e).toBeInstanceOf(BlockhostError);
    expect((e as Error).message).not.toContain(KEY);
    return e as BlockhostError;
  }
  throw new Error("expected a refusal");
}

test("a 0600 or 0640 hex key file (with or without 0x and newline) gives its account", () => {
  expect(loadKeyFile(keyFile("a.key", `${KEY}\n`, 0o600)).address).toBe(ADDRESS);
  expect(loadKeyFile(keyFile("b.key", `0x${KEY}`, 0o640)).address).toBe(ADDRESS);
});

test("files others can read, or non-owners can write, are refused as config errors", () => {
  for (const [name, mode] of [
    ["o.key", 0o644],
    ["g.key", 0o660],
    ["w.key", 0o602],
  ] as const) {
    const e = refusal(keyFile(name, KEY, mode));
    expect(e.code).toBe("E_CONFIG_INVALID");
    expect(e.message).toContain("lets others access it");
  }
});

test("missing files, directories, symlinks and non-keys are refused without echoing content", () => {
  expect(refusal(join(tmp.dir, "none.key")).code).toBe("E_CONFIG_MISSING");
  mkdirSync(join(tmp.dir, "dir.key"), { mode: 0o700 });
  expect(refusal(join(tmp.dir, "dir.key")).message).toContain("not a regular file");
  symlinkSync(keyFile("real.key", KEY, 0o600), join(tmp.dir, "link.key"));
  expect(refusal(join(tmp.dir, "link.key")).message).toContain("not a regular file");
  const e = refusal(keyFile("junk.key", "correct horse battery staple", 0o600));
  expect(e.code).toBe("E_CONFIG_INVALID");
  expect(e.message).not.toContain("horse");
});

test.skipIf(process.getuid?.() !== 0)(
  "a key file owned by a user other than root, blockhost or the caller is refused",
  () => {
    const file = keyFile("stranger.key", KEY, 0o600);
    chownSync(file, 12345, 0);
    const e = refusal(file);
    expect(e.code).toBe("E_CONFIG_INVALID");
    expect(e.message).toContain(`key file ${file}: owned by uid 12345`);
  },
);
