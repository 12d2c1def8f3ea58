/** doctor's disk check: free space where state and VM disks live, against a threshold. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diskChecks } from "../../../src/doctor/host.ts";

const root = mkdtempSync(join(tmpdir(), "blockhost-disk-"));
const saved = process.env.BLOCKHOST_ROOT;
process.env.BLOCKHOST_ROOT = root;
afterAll(() => {
  if (saved === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = saved;
  rmSync(root, { recursive: true, force: true });
});

test("enough space is ok; below the threshold is a failure with a fix, measured at the nearest existing parent", () => {
  const fine = diskChecks(0);
  expect(fine).toHaveLength(1);
  expect(fine[0]).toMatchObject({ name: `disk ${root}`, status: "ok", fix: null });
  expect(fine[0]!.detail).toMatch(/^\d+\.\d GiB free of \d+\.\d GiB$/);
  const short = diskChecks(Number.MAX_SAFE_INTEGER);
  expect(short[0]).toMatchObject({ status: "fail", fix: "free space or grow the filesystem" });
  expect(short[0]!.detail).toContain("(needs ≥ ");
});
