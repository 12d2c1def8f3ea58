/**
 * Benchmark: how long a whole `blockhost` process takes from exec to exit for the one-shot commands
 * (every CLI call and every SSH login into a VM starts one), beside a bare compiled Bun binary that
 * only prints a line, measured in the same run, alternately, so a busy machine slows both alike.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselineBinary, blockhostBinary, tempDir } from "../helpers/binary.ts";
import { loginMessage, OWNER, parseChallenge, writeVmRoot } from "../helpers/vmauth.ts";
import type { BenchRow } from "./agent.ts";

const RUNS = 21;
const PRIVATE_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

/** Peak memory is left out: Bun reports the largest of all children so far, not this child's. */
interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** One run; its CPU time is the kernel's accounting of that child (wait4). */
async function runOnce(argv: string[], env: Record<string, string>, stdin?: string): Promise<Sample> {
  const started = performance.now();
  const proc = Bun.spawn(argv, {
    env: { PATH: "/usr/bin:/bin", ...env },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${stderr.trim()}`);
  const usage = proc.resourceUsage();
  return { wallMs, cpuMs: usage ? Number(usage.cpuTime.total) / 1000 : Number.NaN };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function rows(name: string, samples: Sample[], bare: Sample[]): BenchRow[] {
  const m = (pick: (s: Sample) => number, list: Sample[]) => median(list.map(pick));
  return [
    {
      name: `cold start ${name}: wall (bare Bun binary ${m((s) => s.wallMs, bare).toFixed(1)} ms)`,
      value: m((s) => s.wallMs, samples).toFixed(1),
      unit: "ms",
    },
    {
      name: `cold start ${name}: cpu (bare ${m((s) => s.cpuMs, bare).toFixed(1)} ms)`,
      value: m((s) => s.cpuMs, samples).toFixed(1),
      unit: "ms",
    },
  ];
}

/** Medians of RUNS runs of each command, each run paired with a run of the bare binary. */
export async function benchColdStart(): Promise<BenchRow[]> {
  const t = tempDir("blockhost-bench-cold-");
  try {
    const bare = join(t.dir, "bare");
    writeFileSync(join(t.dir, "bare.ts"), 'console.log("ok");\n');
    const build = Bun.spawnSync([process.execPath, "build", "--compile", join(t.dir, "bare.ts"), "--outfile", bare], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`bare build failed: ${build.stderr.toString()}`);
    const keyFile = join(t.dir, "key");
    writeFileSync(keyFile, `${PRIVATE_KEY}\n`, { mode: 0o600 });
    const vmRoot = join(t.dir, "vm");
    writeVmRoot(vmRoot, {
      passwd: [`alice:x:1000:1000:wallet=${OWNER.address}:/home/alice:/bin/sh`],
      signingHost: "vm1.example.net",
    });
    const pamEnv = { BLOCKHOST_ROOT: vmRoot, PAM_USER: "alice", PAM_RHOST: "192.0.2.7", PAM_TYPE: "auth" };

    const out: BenchRow[] = [];
    const measure = async (
      name: string,
      bin: string,
      argv: string[],
      env: Record<string, string> = {},
      before?: () => Promise<string | undefined>,
    ) => {
      const samples: Sample[] = [];
      const bareSamples: Sample[] = [];
      await runOnce([bin, ...argv], env, before ? await before() : undefined); // warm the page cache
      for (let i = 0; i < RUNS; i++) {
        const stdin = before ? await before() : undefined;
        samples.push(await runOnce([bin, ...argv], env, stdin));
        bareSamples.push(await runOnce([bare], {}));
      }
      out.push(...rows(name, samples, bareSamples));
    };

    const native = blockhostBinary();
    await measure("blockhost --version", native, ["--version"]);
    await measure("blockhost crypto derive-pubkey", native, ["crypto", "derive-pubkey", "--private-key-file", keyFile]);
    // The VM template runs the baseline (no AVX2) build: that is the one an SSH login starts.
    const guest = baselineBinary();
    await measure("blockhost-baseline pam challenge", guest, ["pam", "challenge"], pamEnv);
    const signedChallenge = async () => {
      const r = runOnceText([guest, "pam", "challenge"], pamEnv);
      const c = parseChallenge(r);
      return `${await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) })}\0`;
    };
    await measure("blockhost-baseline pam verify", guest, ["pam", "verify"], pamEnv, signedChallenge);
    return out;
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
}

function runOnceText(argv: string[], env: Record<string, string>): string {
  const r = Bun.spawnSync(argv, { env: { PATH: "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

if (import.meta.main) {
  for (const r of await benchColdStart()) console.log(`${r.name}: ${r.value} ${r.unit}`);
}
