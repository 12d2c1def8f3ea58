/** The .deb under test: `npm run package`'s output, rebuilt when the binaries or debian/ are newer than it. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { blockhostBinary, REPO } from "./binary.ts";

export const DEB_VERSION = pkg.version;

/** Path of dist/blockhost_<version>_amd64.deb (or in `outDir`), building it (dpkg-buildpackage) if stale. */
export function ensureDeb(version = DEB_VERSION, outDir = join(REPO, "dist")): string {
  const deb = join(outDir, `blockhost_${version}_amd64.deb`);
  const bin = blockhostBinary();
  const baseline = join(REPO, "dist/blockhost-baseline");
  const inputs = [bin, baseline, join(REPO, "scripts/package-deb.ts"), ...debianFiles()];
  const fresh =
    existsSync(deb) && existsSync(baseline) && inputs.every((f) => statSync(deb).mtimeMs > statSync(f).mtimeMs);
  if (fresh) return deb;
  if (!existsSync(baseline)) {
    const b = Bun.spawnSync([process.execPath, join(REPO, "build.ts")], { stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }
  const argv = [
    process.execPath,
    join(REPO, "scripts/package-deb.ts"),
    "--out",
    outDir,
    ...(version === DEB_VERSION ? [] : ["--version", version]),
  ];
  const r = Bun.spawnSync(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`packaging failed: ${r.stderr.toString().trim().slice(-1500)}`);
  return deb;
}

function debianFiles(dir = join(REPO, "debian")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? debianFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/**
 * The same package under a newer version (only the control Version changes, the payload is identical), for the
 * upgrade test: rebuilding from the same source would give the same binaries, at twice the packaging time.
 */
export function repackAsVersion(deb: string, version: string, outDir: string): string {
  const out = join(outDir, `blockhost_${version}_amd64.deb`);
  const work = join(outDir, `repack-${process.pid}`);
  const run = (argv: string[]) => {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
  };
  rmSync(work, { recursive: true, force: true });
  run(["dpkg-deb", "-R", deb, work]);
  const control = join(work, "DEBIAN/control");
  writeFileSync(control, readFileSync(control, "utf8").replace(/^Version: .*$/m, `Version: ${version}`));
  run(["dpkg-deb", "-Zgzip", "-z1", "--root-owner-group", "-b", work, out]);
  rmSync(work, { recursive: true, force: true });
  return out;
}

/**
 * A stand-in for the original BlockHost's `blockhost-common` 0.9.0 (simulator: only what an upgrade to ours meets):
 * its name, its conffiles /etc/blockhost/{db.yaml,web3-defaults.yaml}, and its postinst's system user and group
 * `blockhost` with the original's directory owners and modes. Its root-agent service is left out.
 */
export function buildOriginalCommon(outDir: string, conffiles: Record<string, string>): string {
  const work = join(outDir, `original-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, "DEBIAN"), { recursive: true });
  mkdirSync(join(work, "etc/blockhost"), { recursive: true });
  for (const [name, content] of Object.entries(conffiles)) writeFileSync(join(work, "etc/blockhost", name), content);
  writeFileSync(
    join(work, "DEBIAN/conffiles"),
    Object.keys(conffiles)
      .map((n) => `/etc/blockhost/${n}\n`)
      .join(""),
  );
  writeFileSync(
    join(work, "DEBIAN/control"),
    [
      "Package: blockhost-common",
      "Version: 0.9.0",
      "Architecture: all",
      "Maintainer: BlockHost test <test@blockhost.invalid>",
      "Description: stand-in for the original BlockHost's common package",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(work, "DEBIAN/postinst"),
    [
      "#!/bin/sh",
      "set -e",
      'if [ "$1" = configure ]; then',
      "  getent group blockhost >/dev/null || groupadd --system blockhost",
      "  getent passwd blockhost >/dev/null || useradd --system --gid blockhost --home-dir /var/lib/blockhost \\",
      "    --no-create-home --shell /usr/sbin/nologin blockhost",
      "  install -d -m 0750 -o blockhost -g blockhost /var/lib/blockhost",
      "  chown root:blockhost /etc/blockhost && chmod 0750 /etc/blockhost",
      "fi",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const out = join(outDir, "blockhost-common_0.9.0_all.deb");
  const r = Bun.spawnSync(["dpkg-deb", "-Zgzip", "--root-owner-group", "-b", work, out], {
    stdout: "pipe",
    stderr: "pipe",
  });
  rmSync(work, { recursive: true, force: true });
  if (r.exitCode !== 0) throw new Error(`dpkg-deb: ${r.stderr.toString().trim()}`);
  return out;
}
