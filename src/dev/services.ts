/** Start and stop the dev stack's services (agent, engine). */
import type { Subprocess } from "bun";
import { AgentClient } from "../agent/client.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { diesWithParent } from "../core/process.ts";

/** argv that runs this same blockhost: the compiled binary itself, or bun + src/main.ts from source. */
export function selfArgv(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

export interface Service {
  readonly name: string;
  readonly proc: Subprocess;
  stop(): Promise<number>;
}

/** Start `blockhost <args>` as a child under the same BLOCKHOST_ROOT; its stderr log goes to `logFile`. */
export function startService(name: string, args: string[], logFile: string): Service {
  const proc = Bun.spawn(diesWithParent([...selfArgv(), ...args]), {
    cwd: "/",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: paths.root },
    stdin: "ignore",
    // Services log one JSON line per event on stderr; stdout carries nothing for a daemon.
    stdout: "ignore",
    stderr: Bun.file(logFile),
  });
  return {
    name,
    proc,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return await proc.exited;
    },
  };
}

/** Wait until the agent under paths.root answers ping, or its process dies. */
export async function waitForAgent(service: Service, timeoutMs = 15_000): Promise<void> {
  const client = new AgentClient({ timeoutMs: 2_000 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.ping();
      return;
    } catch (e) {
      if (service.proc.exitCode !== null)
        throw new BlockhostError("E_INTERNAL", `the agent exited with code ${service.proc.exitCode}`);
      if (Date.now() > deadline) throw e;
      await Bun.sleep(50);
    }
  }
}
