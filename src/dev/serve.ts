/** `blockhost dev`: start `blockhost serve` on loopback (self-signed certificate) and wait until it answers. */
import { BlockhostError } from "../core/errors.ts";
import { ensureSelfSignedHttps } from "../web/public/https.ts";
import { freePort } from "./anvil.ts";
import { startService, type Service } from "./services.ts";

export async function startDevServe(logFile: string, timeoutMs = 30_000): Promise<{ service: Service; url: string }> {
  await ensureSelfSignedHttps("127.0.0.1");
  const port = await freePort();
  const service = startService(
    "web front",
    ["serve", "--listen", "127.0.0.1", "--port", String(port), "--http-port", "off"],
    logFile,
  );
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}/api/v1/status`, { tls: { rejectUnauthorized: false } } as RequestInit);
      if (r.ok) return { service, url };
    } catch {
      // not listening yet
    }
    if (service.proc.exitCode !== null)
      throw new BlockhostError(
        "E_INTERNAL",
        `blockhost serve exited with code ${service.proc.exitCode}; see ${logFile}`,
      );
    if (Date.now() > deadline)
      throw new BlockhostError(
        "E_TIMEOUT",
        `blockhost serve did not answer within ${timeoutMs / 1000} s; see ${logFile}`,
      );
    await Bun.sleep(100);
  }
}
