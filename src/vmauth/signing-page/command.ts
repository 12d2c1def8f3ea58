/** `blockhost signing-page`: serve the in-VM signing page. */
import { defineCommand } from "citty";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { port as portSchema } from "../../core/validators.ts";
import { loadPamConfig } from "../config.ts";
import { signingHost } from "../signing-host.ts";
import { signingPageApp } from "./app.ts";
import { ensureCertificate, tlsFiles } from "./tls.ts";

/** Seconds an idle connection may hold the socket (slow-loris protection). */
const IDLE_TIMEOUT_SECONDS = 10;

/** `blockhost signing-page`: the in-VM HTTPS service the login URL points at. */
export default defineCommand({
  meta: {
    name: "signing-page",
    description: "Serve the wallet login signing page and its callback API inside a VM (port 63108)",
  },
  args: {
    listen: { type: "string", description: "address to bind (default :: , all addresses)" },
    port: {
      type: "string",
      description: "port (default: [auth] signing_port in config.toml, 63108; 0 = any free port)",
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
      fetch: app.fetch,
      idleTimeout: IDLE_TIMEOUT_SECONDS,
      maxRequestBodySize: 64 * 1024,
      ...(tls ? { tls } : {}),
    });
    logEvent("signing-page.listening", { address: hostnameToBind, port: server.port, tls: Boolean(tls), host });
    await new Promise<void>((resolve) => {
      const stop = () => {
        server.stop(true);
        resolve();
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
  },
});
