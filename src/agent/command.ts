import { defineCommand } from "citty";
export default defineCommand({
  meta: { name: "agent", description: "Run the privileged root agent on its Unix socket" },
  args: { socket: { type: "string", description: "socket path (default: <root>/run/blockhost/root-agent.sock)" } },
  async run() { console.log("todo"); },
});
