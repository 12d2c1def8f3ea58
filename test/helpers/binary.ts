/** Run the compiled blockhost binary in tests. */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO = join(import.meta.dir, "../..");
export const BIN = join(REPO, "dist/blockhost");

/** The compiled binary (npm test builds it first; a bare `bun test` builds it on demand). */
export function blockhostBinary(): string {
  if (!existsSync(BIN)) {
    const r = Bun.spawnSync(["bun", join(REPO, "build.ts")], {
      env: { ...process.env, BLOCKHOST_BUILD_ONLY: "native" },
      stdout: "inherit",
      stderr: "inherit",
    });
    if (r.exitCode !== 0) throw new Error("build failed");
  }
  return BIN;
}

/** The baseline (no-AVX2) binary that goes into VM templates; built with the native one. */
export function baselineBinary(): string {
  const file = join(REPO, "dist/blockhost-baseline");
  if (!existsSync(file)) {
    const r = Bun.spawnSync(["bun", join(REPO, "build.ts")], {
      env: process.env,
      stdout: "inherit",
      stderr: "inherit",
    });
    if (r.exitCode !== 0) throw new Error("build failed");
  }
  return file;
}

export interface RunOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `blockhost ARGS` with a BLOCKHOST_ROOT and optional stdin; returns exit code and output. */
export function runBlockhost(
  args: string[],
  opts: { root?: string; env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<RunOutput> {
  return runCommand([blockhostBinary(), ...args], {
    cwd: opts.cwd ?? "/",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...(opts.root ? { BLOCKHOST_ROOT: opts.root } : {}),
      ...opts.env,
    },
    ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
  });
}

/** Run a command with exactly `env` (nothing inherited), optional stdin; returns exit code and output. */
export async function runCommand(
  argv: string[],
  opts: { env: Record<string, string>; stdin?: string; cwd?: string },
): Promise<RunOutput> {
  const proc = Bun.spawn(argv, {
    cwd: opts.cwd ?? "/",
    env: opts.env,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** A fresh temp directory removed by the returned cleanup. */
export function tempDir(prefix = "blockhost-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
