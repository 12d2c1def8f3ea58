/** Start and stop a real agent for tests. */
import { mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { AgentClient } from "../../src/agent/client.ts";
import { blockhostBinary, tempDir } from "./binary.ts";

export interface RunningAgent {
  readonly root: string;
  readonly socket: string;
  readonly client: AgentClient;
  readonly proc: ReturnType<typeof Bun.spawn>;
  /** Audit and log lines the agent wrote to stderr so far. */
  logLines(): Array<Record<string, unknown>>;
  /** SIGTERM and wait; returns the exit code. Removes the temp root unless it was given. */
  stop(): Promise<number>;
}

export interface StartAgentOptions {
  /** Use this BLOCKHOST_ROOT (default: a fresh temp dir, removed on stop). */
  readonly root?: string;
  /** Written to <root>/etc/blockhost/agent.yaml (mode 0644, owned by root) as `binaries:`. */
  readonly binaries?: Record<string, string>;
  readonly env?: Record<string, string>;
}

/** Start the compiled `blockhost agent` on a socket under a temp root and wait until it answers ping. */
export async function startAgent(options: StartAgentOptions = {}): Promise<RunningAgent> {
  const temp = options.root ? undefined : tempDir("blockhost-agent-");
  const root = options.root ?? temp!.dir;
  const socket = join(root, "run/blockhost/root-agent.sock");
  if (options.binaries) {
    mkdirSync(join(root, "etc/blockhost"), { recursive: true });
    const file = join(root, "etc/blockhost/agent.yaml");
    writeFileSync(
      file,
      `binaries:\n${Object.entries(options.binaries)
        .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`)
        .join("")}`,
    );
    chmodSync(file, 0o644);
  }
  const proc = Bun.spawn([blockhostBinary(), "agent", "--socket", socket], {
    cwd: "/",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: root, ...options.env },
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  void (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderr += new TextDecoder().decode(chunk);
  })();
  const client = new AgentClient({ socketPath: socket, timeoutMs: 30_000 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await client.ping();
      break;
    } catch (e) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`agent did not start: ${stderr.trim() || String(e)}`);
      }
      await Bun.sleep(50);
    }
  }
  return {
    root,
    socket,
    client,
    proc,
    logLines: () =>
      stderr
        .split("\n")
        .filter(Boolean)
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return [];
          }
        }),
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      temp?.cleanup();
      return code;
    },
  };
}
