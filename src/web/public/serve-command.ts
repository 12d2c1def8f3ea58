/** `blockhost serve`: the public web front over HTTPS, with an HTTP port that redirects and answers ACME. */
import { defineCommand } from "citty";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { startServe } from "./server.ts";
import { untilStopSignal } from "../../core/stop-signal.ts";

const PORT_RE = /^\d{1,5}$/;

function portArg(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!PORT_RE.test(value) || n > 65_535)
    throw new BlockhostError("E_USAGE", `--${name}: expected a port number 0..65535 (0 = any free port)`);
  return n;
}

export default defineCommand({
  meta: {
    name: "serve",
    description: "Serve the signup page, the admin panel and the status API over HTTPS (the public web front)",
    examples: ["blockhost serve", "blockhost serve --port 8443 --http-port off"],
  },
  args: {
    listen: { type: "string", description: "Address to listen on (default ::, every address)", valueHint: "ADDRESS" },
    port: { type: "string", description: "HTTPS port (default 443; 0 = any free port)", valueHint: "PORT" },
    "http-port": {
      type: "string",
      valueHint: "PORT",
      description: "HTTP port that redirects to HTTPS and answers certificate challenges (default 80; off = none)",
    },
  },
  async run({ args }) {
    const listen = args.listen ?? "::";
    const port = portArg(args.port, "port", 443);
    const httpPort = args["http-port"] === "off" ? null : portArg(args["http-port"], "http-port", 80);
    const running = startServe({ listen, port, httpPort });
    logEvent("serve.listening", {
      address: listen,
      https_port: running.port,
      http_port: running.httpPort,
      url: running.origin,
    });
    process.stdout.write(`${running.origin}/\n`);
    // SIGHUP: check the certificate now (renewed and swapped in when due) instead of at the next 12-hour check.
    process.on("SIGHUP", () => void running.checkCertificate());
    await untilStopSignal();
    await running.stop();
    logEvent("serve.stopped", {});
  },
});
