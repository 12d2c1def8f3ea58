/** Start the public web front: the app on HTTPS (certificate kept over ACME when set), redirect/ACME on HTTP. */
import { websocket } from "hono/bun";
import { AgentClient } from "../../agent/client.ts";
import { oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { swappableTlsServer } from "../../network/tls-listener.ts";
import { publicApp } from "./app.tsx";
import { acmeName, keepServeCertificate } from "./certificate.ts";
import { loadServeDeps } from "./deps.ts";
import { httpsOrigin, loadHttps, redirectApp } from "./https.ts";

/** An idle connection may hold a socket this long (slow-loris protection). */
const IDLE_TIMEOUT_SECONDS = 30;
const MAX_BODY = 64 * 1024;

export interface RunningServe {
  port: number;
  httpPort: number | null;
  origin: string;
  /** Check the certificate now (ACME: renew when due, with the listener swapped); a no-op without ACME. */
  checkCertificate(): Promise<void>;
  stop(): Promise<void>;
}

export function startServe(opts: { listen: string; port: number; httpPort: number | null }): RunningServe {
  const https = loadHttps();
  const deps = loadServeDeps({ tls: true });
  const web = publicApp(deps);
  const listener = swappableTlsServer(
    {
      hostname: opts.listen,
      port: opts.port,
      idleTimeout: IDLE_TIMEOUT_SECONDS,
      maxRequestBodySize: MAX_BODY,
      fetch: (req, srv) => web.fetch(req, srv),
      // The panel's serial console (panel/console-socket.ts).
      websocket: websocket as unknown as Bun.WebSocketHandler<unknown>,
      error: (e) => {
        logEvent("serve.error", { error: e.message.split("\n")[0] });
        return new Response("internal error", { status: 500 });
      },
    },
    https,
  );
  const origin = httpsOrigin(https.acme ? acmeName(https) : https.hostname, listener.port);
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
  // After the HTTP side is up: the ACME server fetches its challenge there.
  const keeper = keepServeCertificate(https, deps.db, new AgentClient(), (files) => {
    listener.swap(files);
    logEvent("serve.certificate_swapped", { cert_file: files.cert_file });
  });
  const checkCertificate = async () => {
    await keeper?.check().catch((e) => logEvent("serve.certificate_error", { error: oneLine(e) }));
  };
  void checkCertificate();
  return {
    port: listener.port,
    httpPort: redirect?.port ?? null,
    origin,
    checkCertificate,
    async stop() {
      keeper?.stop();
      await listener.stop();
      await redirect?.stop(true);
      deps.db.close();
    },
  };
}
