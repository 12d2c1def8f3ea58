/** The .deb under test: `npm run package`'s output, rebuilt when the binary is newer than it. */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { blockhostBinary, REPO } from "./binary.ts";

export const DEB_VERSION = pkg.version;

/** Path of dist/blockhost_<version>_amd64.deb (or in `outDir`), building it (dpkg-buildpackage) if stale. */
export function ensureDeb(version = DEB_VERSION, outDir = join(REPO, "dist")): string {
  const deb = join(outDir, `blockhost_${version}_amd64.deb`);
  const bin = blockhostBinary();
  const baseline = join(REPO, "dist/blockhost-baseline");
  const fresh = existsSync(deb) && existsSync(baseline) &&
    statSync(deb).mtimeMs > Math.max(statSync(bin).mtimeMs, statSync(baseline).mtimeMs);
  if (fresh) return deb;
  if (!existsSync(baseline)) {
    const b = Bun.spawnSync(["bun", join(REPO, "build.ts")], { stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }
  const argv = ["bun", join(REPO, "src/package/deb.ts"), "--out", outDir, ...(version === DEB_VERSION ? [] : ["--version", version])];
  const r = Bun.spawnSync(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`packaging failed: ${r.stderr.toString().trim().slice(-1500)}`);
  return deb;
}
