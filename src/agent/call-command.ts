/** `blockhost agent call`: send one request to the agent, print the reply. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { AgentClient } from "./client.ts";

/** `blockhost agent call ACTION [PARAMS-JSON]`: one request, the reply as JSON on stdout. For operators and health checks. */
export default defineCommand({
  meta: { name: "call", description: "Send one request to the root agent and print the JSON reply" },
  args: {
    action: { type: "positional", description: "action name, e.g. ping", required: true },
    params: { type: "positional", description: "params as a JSON object (default {})", required: false },
    socket: {
      type: "string",
      description: "socket path (default: <root>/run/blockhost/root-agent.sock)",
      valueHint: "PATH",
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
