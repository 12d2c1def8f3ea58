/** `blockhost agent call`: send one request to the agent, print the reply. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { AgentClient } from "./client.ts";

/** `blockhost agent call ACTION [PARAMS-JSON]`: one request, the reply as JSON on stdout. For operators and health checks. */
export default defineCommand({
  meta: {
    name: "call",
    description: "Send one request to the root agent and print its JSON reply (a health check: ping)",
    examples: ["blockhost agent call ping", `blockhost agent call qm-status '{"vmid":100}'`],
  },
  args: {
    action: { type: "positional", description: "Name of the action, e.g. ping", required: true, valueHint: "ACTION" },
    params: {
      type: "positional",
      description: "The action's parameters as a JSON object (default {})",
      required: false,
      valueHint: "JSON",
    },
    socket: {
      type: "string",
      description: "Path of the agent's socket (default: $BLOCKHOST_ROOT/run/blockhost/root-agent.sock)",
      valueHint: "FILE",
    },
  },
  async run({ args }) {
    let params: unknown = {};
    if (args.params !== undefined) {
      try {
        params = JSON.parse(args.params);
      } catch {
        throw new BlockhostError("E_USAGE", "PARAMS must be a JSON object");
      }
    }
    if (typeof params !== "object" || params === null || Array.isArray(params))
      throw new BlockhostError("E_USAGE", "PARAMS must be a JSON object");
    const client = new AgentClient(args.socket ? { socketPath: args.socket } : {});
    const reply = await client.callUnchecked(args.action, params as Record<string, unknown>);
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  },
});
