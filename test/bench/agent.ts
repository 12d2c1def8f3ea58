/** Benchmark: agent request throughput and latency against a baseline. */
import { startAgent } from "../helpers/agent.ts";

export interface BenchRow {
  readonly name: string;
  readonly value: string;
  readonly unit: string;
}

/** Agent `ping` throughput over 8 concurrent persistent connections, and per-request latency. */
export async function benchAgentPing(total = 40_000, connections = 8): Promise<BenchRow[]> {
  const agent = await startAgent();
  try {
    const conns = await Promise.all(Array.from({ length: connections }, () => agent.client.connect()));
    for (const c of conns) for (let i = 0; i < 200; i++) await c.request("ping", {}); // warm-up
    const latencies: number[] = [];
    const perConnection = Math.ceil(total / connections);
    const started = performance.now();
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < perConnection; i++) {
          const t = performance.now();
          await c.request("ping", {});
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    for (const c of conns) c.close();
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    return [
      {
        name: `agent ping throughput (${connections} connections, ${latencies.length} requests)`,
        value: Math.round(latencies.length / seconds).toLocaleString("en"),
        unit: "requests/s",
      },
      { name: "agent ping latency p50", value: (pct(50) * 1000).toFixed(0), unit: "µs" },
      { name: "agent ping latency p99", value: (pct(99) * 1000).toFixed(0), unit: "µs" },
    ];
  } finally {
    await agent.stop();
  }
}
