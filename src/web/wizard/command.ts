/** `blockhost wizard`: the first-boot setup wizard over plain HTTP, gated by a one-time code on the console. */
import { defineCommand } from "citty";
import { existsSync, mkdirSync } from "node:fs";
import { isIP } from "node:net";
import { AgentClient } from "../../agent/client.ts";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { paths } from "../../core/paths.ts";
import { openDatabase } from "../../core/state/db.ts";
import { createWizardApp } from "./app.ts";
import { OtpStore } from "./otp.ts";
import { untilStopSignal } from "../../core/stop-signal.ts";

export const DEFAULT_WIZARD_PORT = 8080;

export default defineCommand({
  meta: {
    name: "wizard",
    description:
      "Run the web setup wizard of a new host (log in with the one-time code it prints; stops working once set up)",
    examples: ["blockhost wizard", "blockhost wizard --listen 127.0.0.1 --port 8081"],
  },
  args: {
    listen: { type: "string", description: "Address to listen on (default 0.0.0.0)", valueHint: "ADDRESS" },
    port: {
      type: "string",
      description: `Port (default ${DEFAULT_WIZARD_PORT}; 0 = any free port)`,
      valueHint: "PORT",
    },
  },
  async run({ args }) {
    if (existsSync(paths.setupComplete))
      throw new BlockhostError(
        "E_SETUP_COMPLETE",
        `setup is complete (${paths.setupComplete}); the wizard no longer runs`,
      );
    const listen = args.listen ?? "0.0.0.0";
    if (!isIP(listen)) throw new BlockhostError("E_USAGE", "--listen: expected an IP address");
    if (args.port !== undefined && !/^\d{1,5}$/.test(args.port))
      throw new BlockhostError("E_USAGE", "--port: expected a port number");
    const port = args.port === undefined ? DEFAULT_WIZARD_PORT : args.port === "0" ? 0 : Number(args.port);
    if (port > 65_535) throw new BlockhostError("E_USAGE", "--port: expected a port number from 0 to 65535");
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
    const otp = new OtpStore(paths.wizardOtp);
    const code = otp.current();
    const { app } = createWizardApp({ otp, db: openDatabase(), agent: new AgentClient(), tls: false });
    const server = Bun.serve({
      hostname: listen,
      port,
      fetch: app.fetch,
      idleTimeout: 30,
      maxRequestBodySize: 256 * 1024,
    });
    const shown = listen === "0.0.0.0" ? "<this host's address>" : isIP(listen) === 6 ? `[${listen}]` : listen;
    process.stdout.write(
      `BlockHost setup wizard: http://${shown}:${server.port}/\nOne-time code: ${code} (valid 4 hours, 10 tries)\n`,
    );
    logEvent("wizard.listening", { address: listen, port: server.port, otp: code });
    await untilStopSignal();
    server.stop(true);
  },
});
