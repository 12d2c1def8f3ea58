/**
 * Builds dist/blockhost (this machine's CPU) and dist/blockhost-baseline (x86-64 without
 * AVX2, for customer VMs). The binaries never autoload ./bunfig.toml or ./.env: a bunfig
 * preload in the working directory would otherwise run as root inside the agent.
 */
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const here = import.meta.dir;
const dist = join(here, "dist");
mkdirSync(dist, { recursive: true });

/** Steps that generate sources the binary embeds (contract artifacts, browser bundles) run first. */
const pregenerate: Array<{ name: string; module: string }> = [
  { name: "contracts", module: "./scripts/compile-contracts.ts" },
  { name: "browser bundles", module: "./src/web/client/bundle.ts" },
];
for (const step of pregenerate) {
  if (!existsSync(join(here, step.module))) continue;
  const { generate } = (await import(step.module)) as { generate: () => Promise<void> };
  await generate();
}

interface Variant {
  outfile: string;
  target: Bun.Build.CompileTarget;
  executablePath?: string;
}
const baselineBun = join(here, "node_modules/@oven/bun-linux-x64-baseline/bin/bun");
const variants: Variant[] = [
  { outfile: join(dist, "blockhost"), target: "bun-linux-x64" },
  { outfile: join(dist, "blockhost-baseline"), target: "bun-linux-x64-baseline", executablePath: baselineBun },
];
if (process.env.BLOCKHOST_BUILD_ONLY === "native") variants.pop();

for (const v of variants) {
  const started = performance.now();
  const result = await Bun.build({
    // src/entry.ts is the binary; the others are chunks it imports by a path the bundler cannot follow
    // (src/entry.ts says why), each compiled with its own bytecode so that nothing is parsed at start.
    entrypoints: ["entry.ts", "main.ts", "vmauth/pam-cli.ts", "crypto/crypto-cli.ts", "guest/guest-cli.ts"].map((f) =>
      join(here, "src", f),
    ),
    format: "esm",
    bytecode: true,
    minify: { syntax: true, whitespace: true, identifiers: false },
    sourcemap: "none",
    compile: {
      target: v.target,
      outfile: v.outfile,
      autoloadBunfig: false,
      autoloadDotenv: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
      ...(v.executablePath ? { executablePath: v.executablePath } : {}),
    },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  chmodSync(v.outfile, 0o755);
  console.log(`built ${v.outfile} (${v.target}) in ${Math.round(performance.now() - started)} ms`);
}
