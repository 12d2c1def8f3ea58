/** serve's certificate hot reload: the listener swap next to a fresh TLS listener start, and requests lost. */
import { join } from "node:path";
import type { TlsFiles } from "../../src/network/certificates.ts";
import { swappableTlsServer } from "../../src/network/tls-listener.ts";
import { tempDir } from "../helpers/binary.ts";
import type { BenchRow } from "./agent.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function selfSigned(dir: string, name: string): TlsFiles {
  const files = { cert_file: join(dir, `${name}.pem`), key_file: join(dir, `${name}.key`) };
  const r = Bun.spawnSync(
    ["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
      .concat(["-keyout", files.key_file, "-out", files.cert_file]),
    { stdout: "ignore", stderr: "pipe" },
  );
  if (r.exitCode !== 0) throw new Error(`openssl: ${r.stderr.toString()}`);
  return files;
}

export async function benchTlsSwap(swaps = 20): Promise<BenchRow[]> {
  const tmp = tempDir("bh-bench-tls-");
  try {
    const files = [selfSigned(tmp.dir, "a"), selfSigned(tmp.dir, "b")] as const;
    const fetchOk = () => new Response("ok");
    const listener = swappableTlsServer({ hostname: "127.0.0.1", port: 0, fetch: fetchOk }, files[0]);
    const url = `https://127.0.0.1:${listener.port}/`;
    // Clients keep requesting (a new connection each time, as browsers arriving) while the swaps happen.
    let ok = 0;
    let failed = 0;
    let running = true;
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const r = await fetch(url, { tls: { rejectUnauthorized: false }, keepalive: false });
          await r.text();
          ok++;
        } catch {
          failed++;
        }
      }
    });
    await Bun.sleep(300);
    const swapMs: number[] = [];
    for (let i = 0; i < swaps; i++) {
      const t = performance.now();
      listener.swap(files[(i + 1) % 2]!);
      swapMs.push(performance.now() - t);
      await Bun.sleep(100);
    }
    running = false;
    await Promise.all(clients);
    await listener.stop();
    // Baseline: what a restart costs at the least, a TLS listener started from nothing on a free port.
    const startMs: number[] = [];
    for (let i = 0; i < swaps; i++) {
      const t = performance.now();
      const s = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        tls: { cert: Bun.file(files[0].cert_file), key: Bun.file(files[0].key_file) },
        fetch: fetchOk,
      });
      startMs.push(performance.now() - t);
      await s.stop(true);
    }
    return [
      { name: "tls listener swap (median of swap calls)", value: median(swapMs).toFixed(2), unit: "ms" },
      { name: "baseline: new TLS listener start (median)", value: median(startMs).toFixed(2), unit: "ms" },
      { name: `requests failed during ${swaps} swaps`, value: String(failed), unit: "req" },
      { name: `baseline: requests served meanwhile`, value: String(ok), unit: "req" },
    ];
  } finally {
    tmp.cleanup();
  }
}
