/** `blockhost agent`: run the root agent daemon. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { paths } from "../core/paths.ts";
import { ACTIONS } from "./actions/index.ts";
import { syncPortGuardAtStart } from "./actions/port-guard.ts";
import { loadBinaryTable } from "./binaries.ts";
import { createRunner } from "./run.ts";
import { AgentServer } from "./server.ts";
import { prepareAgentDir } from "./setup-state.ts";
import { bindWithMode, clearStaleSocket, inheritedListenFd, removeSocket } from "./socket.ts";

export default defineCommand({
  meta: {
    name: "agent",
    description: "Run the root agent: the one service that runs as root and does privileged work for the others",
    examples: ["blockhost agent", "blockhost agent call ping"],
  },
  args: {
    socket: {
      type: "string",
      description: "Path of the agent's socket (default: $BLOCKHOST_ROOT/run/blockhost/root-agent.sock)",
      valueHint: "FILE",
    },
  },
  subCommands: { call: () => import("./agent-call-command.ts").then((m) => m.default) },
  async run({ args }) {
    if (process.getuid?.() !== 0 && paths.root === "/") {
      throw new BlockhostError("E_AGENT_DENIED", "the root agent must run as root");
    }
    const table = loadBinaryTable();
    prepareAgentDir();
    await guardPortsAtStart(table);
    const server = new AgentServer({
      actions: ACTIONS,
      context: (peer, signal) => ({ peer, signal, run: createRunner(table, signal) }),
    });

    const inherited = inheritedListenFd();
    const socketPath = args.socket ?? paths.agentSocket;
    if (inherited !== undefined) {
      server.listen({ fd: inherited });
    } else {
      await clearStaleSocket(socketPath);
      bindWithMode(socketPath, () => server.listen({ unix: socketPath }));
    }
    logEvent("agent.listening", {
      socket: inherited !== undefined ? `fd:${inherited}` : socketPath,
      actions: ACTIONS.size,
    });

    await new Promise<void>((resolve) => {
      const stop = async (signal: string) => {
        logEvent("agent.stopping", { signal, in_flight: server.connections });
        await server.stop();
        if (inherited === undefined) removeSocket(socketPath);
        logEvent("agent.stopped", {});
        resolve();
      };
      process.once("SIGTERM", () => void stop("SIGTERM"));
      process.once("SIGINT", () => void stop("SIGINT"));
    });
  },
});

/** Re-bind recorded VM ports before listening; a failure is logged (the agent is still needed to fix it). */
async function guardPortsAtStart(table: ReturnType<typeof loadBinaryTable>): Promise<void> {
  try {
    const ports = await syncPortGuardAtStart(createRunner(table, AbortSignal.timeout(30_000)));
    if (ports) logEvent("agent.port_guard_synced", { ports });
  } catch (e) {
    logEvent("agent.port_guard_sync_failed", { error: e instanceof Error ? e.message : String(e) });
  }
}
