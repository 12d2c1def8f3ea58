/** Runs the host tools a template build needs (mmdebstrap, tar, mkfs.ext4, qemu-img) with argv arrays, no shell. */
import { BlockhostError } from "../core/errors.ts";
import { lastLine } from "../agent/run.ts";

/** Run one program to completion; a non-zero exit becomes E_COMMAND_FAILED with stderr's last line. */
export async function runTool(argv: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 1_800_000;
  const started = performance.now();
  const proc = Bun.spawn(argv, {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: "/",
    env: {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      LC_ALL: "C.UTF-8",
      DEBIAN_FRONTEND: "noninteractive",
      TMPDIR: process.env.TMPDIR ?? "/tmp",
    },
    timeout: timeoutMs,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  // Bun's spawn timeout ends the process with SIGTERM: say so (mmdebstrap's own message only says "failed").
  if (proc.signalCode === "SIGTERM" && performance.now() - started >= timeoutMs)
    throw new BlockhostError(
      "E_TIMEOUT",
      `${argv[0]} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`,
    );
  if (code !== 0) {
    // mmdebstrap's last line is only "failed to run": keep the lines before it too.
    const lines = stderr
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-4)
      .join(" | ")
      .slice(-600);
    const why = lines || lastLine(stdout) || `exit ${code}`;
    throw new BlockhostError("E_COMMAND_FAILED", `${argv[0]} exited ${code}: ${why}`);
  }
  return stdout;
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

export function sha256Text(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}
