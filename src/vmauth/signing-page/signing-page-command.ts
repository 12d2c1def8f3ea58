/** `blockhost signing-page`: serve the in-VM signing page. */
import { defineCommand } from "citty";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { port as portSchema } from "../../core/validators.ts";
import { loadPamConfig } from "../config.ts";
import { signingHost } from "../signing-host.ts";
import { absoluteUrlFetch, signingPageApp } from "./app.ts";
import { ensureCertificate, tlsFiles } from "./tls.ts";
import { untilStopSignal } from "../../core/stop-signal.ts";

/** Seconds an idle connection may hold the socket (slow-loris protection). */
const IDLE_TIMEOUT_SECONDS = 10;

/** `blockhost signing-page`: the in-VM HTTPS service the login URL points at. */
export default defineCommand({
  meta: {
    name: "signing-page",
    description: "Serve, inside a customer VM, the page where the customer signs the login code with the wallet",
    examples: ["blockhost signing-page", "blockhost signing-page --listen 127.0.0.1 --port 8443"],
  },
  args: {
    listen: { type: "string", description: "Address to listen on (default ::, every address)", valueHint: "ADDRESS" },
    port: {
      type: "string",
      description: "Port (default: signing_port in the VM's config.toml, 63108; 0 = any free port)",
      valueHint: "PORT",
    },
  },
  async run({ args }) {
    const config = loadPamConfig();
    let port = config.auth.signing_port;
    if (args.port !== undefined) {
      if (!/^\d{1,5}$/.test(args.port)) throw new BlockhostError("E_USAGE", "--port: expected a port number");
      port = args.port === "0" ? 0 : portSchema.parse(Number(args.port), "--port");
    }
    const hostnameToBind = args.listen ?? "::";
    const host = signingHost(true);
    let tls: { cert: ReturnType<typeof Bun.file>; key: ReturnType<typeof Bun.file> } | undefined;
    if (config.auth.use_tls) {
      const generated = await ensureCertificate(host);
      if (generated) logEvent("signing-page.certificate", { host });
      const files = tlsFiles();
      tls = { cert: Bun.file(files.cert), key: Bun.file(files.key) };
    }
    const app = signingPageApp();
    const server = Bun.serve({
      hostname: hostnameToBind,
      port,
      fetch: absoluteUrlFetch(app),
      idleTimeout: IDLE_TIMEOUT_SECONDS,
      maxRequestBodySize: 64 * 1024,
      ...(tls ? { tls } : {}),
    });
    logEvent("signing-page.listening", { address: hostnameToBind, port: server.port, tls: Boolean(tls), host });
    await untilStopSignal();
    server.stop(true);
  },
});
