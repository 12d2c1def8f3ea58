/** Run the compiled `blockhost serve` against a test root (HTTPS with a self-signed certificate made here). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureSelfSigned, runLocalOpenssl } from "../../src/core/self-signed-cert.ts";
import { blockhostBinary } from "./binary.ts";

export interface ServeProcess {
  origin: string;
  httpPort: number;
  proc: ReturnType<typeof Bun.spawn>;
  log(): string;
  stop(): Promise<number>;
}

/** A self-signed certificate for 127.0.0.1 and https.json naming it, as finalize would write. */
export async function writeHttpsConfig(root: string): Promise<void> {
  const dir = join(root, "etc/blockhost/tls");
  mkdirSync(dir, { recursive: true });
  const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  await ensureSelfSigned(files, { names: ["127.0.0.1"], keyMode: 0o600, run: runLocalOpenssl });
  writeFileSync(
    join(root, "etc/blockhost/https.json"),
    JSON.stringify({
      hostname: "127.0.0.1",
      cert_file: files.cert,
      key_file: files.key,
      self_signed: true,
    }),
  );
}

/** Start `blockhost serve` on loopback with free ports (or the given HTTP port); resolves once it printed its URL. */
export async function startServe(root: string, opts: { httpPort?: number } = {}): Promise<ServeProcess> {
  const http = String(opts.httpPort ?? 0);
  const proc = Bun.spawn([blockhostBinary(), "serve", "--listen", "127.0.0.1", "--port", "0", "--http-port", http], {
    cwd: "/",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: root },
    stdout: "pipe",
    stderr: "pipe",
  });
  let stderr = "";
  void (async () => {
    for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
  })();
  const reader = proc.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const origin = new TextDecoder()
    .decode(value ?? new Uint8Array())
    .trim()
    .replace(/\/$/, "");
  if (!origin.startsWith("https://")) throw new Error(`serve did not start: ${stderr}`);
  await Bun.sleep(50);
  const listening = stderr
    .split("\n")
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .find((e) => e.event === "serve.listening");
  return {
    origin,
    httpPort: Number(listening?.http_port),
    proc,
    log: () => stderr,
    async stop() {
      proc.kill("SIGTERM");
      return await proc.exited;
    },
  };
}
