/** Start the public web front: the app on HTTPS and the redirect/ACME app on HTTP. */
import { logEvent } from "../../core/log.ts";
import { publicApp } from "./app.tsx";
import { loadServeDeps } from "./deps.ts";
import { httpsOrigin, loadHttps, redirectApp } from "./https.ts";

/** An idle connection may hold a socket this long (slow-loris protection). */
const IDLE_TIMEOUT_SECONDS = 30;
const MAX_BODY = 64 * 1024;

export interface RunningServe {
  port: number;
  httpPort: number | null;
  origin: string;
  stop(): Promise<void>;
}

export function startServe(opts: { listen: string; port: number; httpPort: number | null }): RunningServe {
  const https = loadHttps();
  const deps = loadServeDeps({ tls: true });
  const web = publicApp(deps);
  const server = Bun.serve({
    hostname: opts.listen,
    port: opts.port,
    idleTimeout: IDLE_TIMEOUT_SECONDS,
    maxRequestBodySize: MAX_BODY,
    tls: { cert: Bun.file(https.cert_file), key: Bun.file(https.key_file) },
    fetch: (req, srv) => web.fetch(req, srv),
    error: (e) => {
      logEvent("serve.error", { error: e.message.split("\n")[0] });
      return new Response("internal error", { status: 500 });
    },
  });
  const origin = httpsOrigin(https.hostname, server.port!);
  const redirect =
    opts.httpPort === null
      ? null
      : Bun.serve({
          hostname: opts.listen,
          port: opts.httpPort,
          idleTimeout: 10,
          maxRequestBodySize: 1024,
          fetch: redirectApp(origin).fetch,
        });
  return {
    port: server.port!,
    httpPort: redirect?.port ?? null,
    origin,
    async stop() {
      await server.stop(true);
      await redirect?.stop(true);
      deps.db.close();
    },
  };
}
