/** The one reader of secret files (key files, setup files): owner, mode and file type checks. */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, chownSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSetupFile } from "../../../src/setup/load.ts";
import { BlockhostError } from "../../../src/core/errors.ts";
import { readPrivateFile } from "../../../src/core/private-file.ts";
import { tempDir } from "../../helpers/binary.ts";

const tmp = tempDir("blockhost-private-file-");
afterAll(() => tmp.cleanup());
const asRoot = process.getuid?.() === 0;
const STRICT = { forbiddenMode: 0o177, modeProblem: "is too open; chmod 0600", owner: "caller" } as const;

function file(name: string, mode: number, uid?: number): string {
  const f = join(tmp.dir, name);
  writeFileSync(f, "secret: value\n", { mode });
  chmodSync(f, mode);
  if (uid !== undefined) chownSync(f, uid, 0);
  return f;
}

function refusal(read: () => unknown): BlockhostError {
  try {
    read();
  } catch (e) {
    expect(e).toBeInstanceOf(BlockhostError);
    expect((e as Error).message).not.toContain("value");
    expect((e as Error).message.split("\n")).toHaveLength(1);
    return e as BlockhostError;
  }
  throw new Error("expected a refusal");
}

test("a 0600 file of the caller is read", () => {
  expect(readPrivateFile(file("ok", 0o600), STRICT)).toBe("secret: value\n");
});

test("a missing file, a symlink and a too-open mode are refused, naming the file", () => {
  const missing = refusal(() => readPrivateFile(join(tmp.dir, "none"), { ...STRICT, label: "setup file x" }));
  expect(missing).toMatchObject({ code: "E_CONFIG_MISSING", message: "setup file x: not found" });
  symlinkSync(file("target", 0o600), join(tmp.dir, "link"));
  expect(refusal(() => readPrivateFile(join(tmp.dir, "link"), STRICT)).message).toBe(
    `${join(tmp.dir, "link")}: not a regular file`,
  );
  const open = file("open", 0o640);
  expect(refusal(() => readPrivateFile(open, STRICT)).message).toBe(`${open}: mode 0640 is too open; chmod 0600`);
});

test.skipIf(!asRoot)(
  "a file another uid owns is refused; with trusted owners root's is read and a stranger's refused",
  () => {
    const stranger = file("stranger", 0o600, 12345);
    const e = refusal(() => readPrivateFile(stranger, STRICT));
    expect(e).toMatchObject({ code: "E_CONFIG_INVALID" });
    expect(e.message).toBe(`${stranger}: owned by uid 12345, must be owned by you (uid 0)`);
    const trusted = refusal(() => readPrivateFile(stranger, { ...STRICT, owner: "root, blockhost or caller" }));
    expect(trusted.message).toContain("owned by uid 12345, must be owned by root, blockhost or you");
    expect(readPrivateFile(file("root-owned", 0o600, 0), { ...STRICT, owner: "root, blockhost or caller" })).toBe(
      "secret: value\n",
    );
  },
);

test.skipIf(!asRoot)("a setup file someone else owns is refused before it is parsed", () => {
  const setup = file("setup.yaml", 0o600, 12345);
  expect(refusal(() => loadSetupFile(setup)).message).toContain("owned by uid 12345");
});
