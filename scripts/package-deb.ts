/**
 * `npm run package`: dist/blockhost_<version>_amd64.deb, built by dpkg-buildpackage (debhelper 13) in a staging
 * copy of debian/ so the source tree stays clean. Man pages and completions come from the citty command tree.
 * Usage: bun scripts/package-deb.ts [--version V] [--out DIR] (a --version other than package.json's is for upgrade tests).
 */
import { cpSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { commandTree, completion, manPages } from "../src/core/cli-docs.ts";
import { main } from "../src/main.ts";

const repo = join(import.meta.dir, "..");
const dist = join(repo, "dist");

/** The version at the top of debian/changelog. */
export function changelogVersion(text: string): string {
  const m = /^blockhost \(([^)]+)\)/.exec(text);
  if (!m) throw new Error("debian/changelog: the first line must be `blockhost (VERSION) …`");
  return m[1]!;
}

function generateDocs(into: string): Promise<void> {
  return commandTree(main).then((tree) => {
    mkdirSync(join(into, "man"), { recursive: true });
    for (const [name, text] of manPages(tree, pkg.version)) writeFileSync(join(into, "man", name), text);
    mkdirSync(join(into, "completions"), { recursive: true });
    writeFileSync(join(into, "completions/blockhost"), completion(tree, "bash"));
    writeFileSync(join(into, "completions/_blockhost"), completion(tree, "zsh"));
    writeFileSync(join(into, "completions/blockhost.fish"), completion(tree, "fish"));
  });
}

function run(argv: string[], cwd: string): void {
  const r = Bun.spawnSync(argv, {
    cwd,
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, LC_ALL: "C.UTF-8" },
  });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.exitCode})`);
}

async function build(version: string, outDir: string): Promise<string> {
  for (const bin of ["blockhost", "blockhost-baseline"]) {
    if (!existsSync(join(dist, bin))) throw new Error(`dist/${bin} is missing: run npm run build first`);
  }
  const changelog = readFileSync(join(repo, "debian/changelog"), "utf8");
  const declared = changelogVersion(changelog);
  if (declared !== pkg.version) {
    throw new Error(`debian/changelog is at ${declared} but package.json at ${pkg.version}: add a changelog entry`);
  }
  const stage = join(dist, "deb-stage");
  const src = join(stage, `blockhost-${version}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(src, "dist"), { recursive: true });
  cpSync(join(repo, "debian"), join(src, "debian"), { recursive: true });
  // Hard links: the two executables are ~100 MB each.
  for (const bin of ["blockhost", "blockhost-baseline"]) linkSync(join(dist, bin), join(src, "dist", bin));
  await generateDocs(join(src, "dist"));
  if (version !== declared) {
    const date = new Date().toUTCString().replace("GMT", "+0000");
    const entry =
      `blockhost (${version}) unstable; urgency=medium\n\n  * Test build ${version}.\n\n` +
      ` -- BlockHost Maintainers <maintainers@blockhost.invalid>  ${date}\n\n`;
    writeFileSync(join(src, "debian/changelog"), entry + changelog);
  }
  run(["dpkg-buildpackage", "--build=binary", "--no-sign", "-uc", "-us"], src);
  const deb = `blockhost_${version}_amd64.deb`;
  mkdirSync(outDir, { recursive: true });
  renameSync(join(stage, deb), join(outDir, deb));
  rmSync(stage, { recursive: true, force: true });
  return join(outDir, deb);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { version: { type: "string" }, out: { type: "string" } } });
  const started = performance.now();
  const path = await build(values.version ?? pkg.version, values.out ?? dist);
  console.log(`built ${path} in ${Math.round(performance.now() - started)} ms`);
}
