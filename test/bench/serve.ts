/** `blockhost serve` figures: status API requests/s next to a baseline (first paint: first-paint.ts). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { publicApp } from "../../src/web/public/app.tsx";
import { loadServeDeps } from "../../src/web/public/deps.ts";
import { EngineEnv } from "../helpers/engine-env.ts";
import { writeHttpsConfig } from "../helpers/serve.ts";
import type { BenchRow } from "./agent.ts";

const insecure = { tls: { rejectUnauthorized: false } } as RequestInit;

/** Requests/s of `total` GETs of `url` over `concurrency` parallel loops (keep-alive). */
async function rate(url: string, total: number, concurrency: number): Promise<number> {
  for (let i = 0; i < 50; i++) await (await fetch(url, insecure)).arrayBuffer();
  const started = performance.now();
  let left = total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const r = await fetch(url, insecure);
        if (!r.ok) throw new Error(`${url}: ${r.status}`);
        await r.arrayBuffer();
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

export async function benchServe(total = 5_000, concurrency = 16): Promise<BenchRow[]> {
  const env = await EngineEnv.create();
  const saved = process.env.BLOCKHOST_ROOT;
  process.env.BLOCKHOST_ROOT = env.root;
  await writeHttpsConfig(env.root);
  const https = JSON.parse(readFileSync(join(env.root, "etc/blockhost/https.json"), "utf8")) as {
    cert_file: string;
    key_file: string;
  };
  const tls = { cert: Bun.file(https.cert_file), key: Bun.file(https.key_file) };
  const deps = loadServeDeps({ tls: true });
  const app = publicApp(deps, { apiPerMinute: 1_000_000 });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls, fetch: (req, srv) => app.fetch(req, srv) });
  const baseline = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls,
    fetch: (req) =>
      new URL(req.url).pathname === "/"
        ? new Response(
            "<!doctype html><html><head><title>baseline</title></head><body><h1>Hello</h1><p>static page</p></body></html>",
            { headers: { "content-type": "text/html" } },
          )
        : Response.json({ ok: true }),
  });
  const rows: BenchRow[] = [];
  try {
    const origin = `https://127.0.0.1:${server.port}`;
    const base = `https://127.0.0.1:${baseline.port}`;
    const api = await rate(`${origin}/api/v1/status`, total, concurrency);
    const floor = await rate(`${base}/json`, total, concurrency);
    rows.push(
      {
        name: `serve GET /api/v1/status over TLS (${concurrency} concurrent, ${total} requests)`,
        value: Math.round(api).toLocaleString("en"),
        unit: "requests/s",
      },
      {
        name: "  baseline: Bun.serve TLS static JSON, same run",
        value: Math.round(floor).toLocaleString("en"),
        unit: "requests/s",
      },
    );
    return rows;
  } finally {
    await server.stop(true);
    await baseline.stop(true);
    deps.db.close();
    if (saved === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = saved;
    await env.stop();
  }
}
