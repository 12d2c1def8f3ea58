// Benchmarks for admin commands (RPC requests to scan blocks, batched vs one per block) and a fund cycle's wall time on anvil.
import { appendFileSync, chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPublicClient, http, type PublicClient } from "viem";
import { connectChain } from "../../src/chain/client.ts";
import { openDatabase } from "../../src/core/state/db.ts";
import { BlockScanner, SCAN_BACKFILL, batchingClient } from "../../src/engine/admin-commands/scanner.ts";
import { startAgent } from "../helpers/agent.ts";
import { runBlockhost, tempDir } from "../helpers/binary.ts";
import { EngineEnv, OWNER } from "../helpers/engine-env.ts";
import { ensureServiceAccount } from "../helpers/service-account.ts";
import type { BenchRow } from "./agent.ts";

/** A loopback JSON-RPC proxy in front of anvil that counts HTTP requests and the calls inside them. */
function countingProxy(target: string) {
  const counts = { requests: 0, calls: 0 };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      counts.requests++;
      const parsed = JSON.parse(body) as unknown;
      counts.calls += Array.isArray(parsed) ? parsed.length : 1;
      return new Response(
        await (await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body })).text(),
        { headers: { "content-type": "application/json" } },
      );
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, counts, stop: () => server.stop(true) };
}

export async function benchAdminScan(blocks = Number(process.env.BENCH_SCAN_BLOCKS ?? 500)): Promise<BenchRow[]> {
  const env = await EngineEnv.create();
  const proxy = countingProxy(env.anvil.rpcUrl);
  const { dir, cleanup } = tempDir("bench-scan-");
  try {
    await env.anvil.mine(blocks);
    const head = Number(await env.anvil.rpc<string>("eth_blockNumber"));
    const web3 = {
      blockchain: { chain_id: env.anvil.chainId, rpc_url: proxy.url },
      auth: { otp_length: 6, otp_ttl_seconds: 300 },
    };
    const access = connectChain(web3 as never);
    const db = openDatabase(join(dir, "bench.db"));
    const scanner = new BlockScanner(db, batchingClient(web3 as never, access), {
      chainId: env.anvil.chainId,
      startBlock: 0,
    });
    // Catch-up: the scanner starts SCAN_BACKFILL blocks behind the confirmed head.
    let t = performance.now();
    while (await scanner.round(head, async () => {})) {
      /* next batch */
    }
    const catchUpMs = performance.now() - t;
    const catchUp = { ...proxy.counts };
    await env.anvil.mine(1);
    proxy.counts.requests = 0;
    proxy.counts.calls = 0;
    await scanner.round(head + 1, async () => {});
    const perPoll = { ...proxy.counts };
    db.close();

    // The original: one eth_getBlockByNumber (full transactions) request per block, no batching.
    const plain = createPublicClient({ transport: http(proxy.url) }) as PublicClient;
    const scanned = head - Math.max(0, head - SCAN_BACKFILL) + 1;
    proxy.counts.requests = 0;
    proxy.counts.calls = 0;
    t = performance.now();
    for (let n = head - scanned + 1; n <= head; n++)
      await plain.getBlock({ blockNumber: BigInt(n), includeTransactions: true });
    const plainMs = performance.now() - t;
    return [
      {
        name: `admin scan catch-up, ${scanned} blocks: HTTP requests, batched (${catchUp.calls} JSON-RPC calls)`,
        value: String(catchUp.requests),
        unit: "requests",
      },
      {
        name: `same ${scanned} blocks, one getBlock request per block (the original)`,
        value: String(proxy.counts.requests),
        unit: "requests",
      },
      { name: "admin scan catch-up wall time, batched", value: catchUpMs.toFixed(0), unit: "ms" },
      { name: "same blocks, one request per block", value: plainMs.toFixed(0), unit: "ms" },
      {
        name: `admin scan per poll with one new block: HTTP requests (${perPoll.calls} calls: reorg check + block)`,
        value: String(perPoll.requests),
        unit: "requests",
      },
    ];
  } finally {
    proxy.stop();
    cleanup();
    await env.stop();
  }
}

export async function benchFundCycle(): Promise<BenchRow[]> {
  ensureServiceAccount();
  const env = await EngineEnv.create();
  const agent = await startAgent({ root: env.root });
  try {
    const etc = join(env.root, "etc/blockhost");
    const a = env.anvil.accounts;
    writeFileSync(
      join(etc, "addressbook.json"),
      JSON.stringify({
        admin: { address: a[5]!.address },
        server: { address: a[OWNER]!.address, keyfile: join(etc, "deployer.key") },
        dev: { address: a[6]!.address },
        broker: { address: a[7]!.address },
      }),
    );
    chmodSync(join(etc, "addressbook.json"), 0o640);
    writeFileSync(
      join(etc, "revenue-share.json"),
      JSON.stringify({
        enabled: true,
        total_percent: 1,
        recipients: [
          { role: "dev", percent: 0.5 },
          { role: "broker", percent: 0.5 },
        ],
      }),
    );
    appendFileSync(join(etc, "blockhost.yaml"), "fund_manager: {min_withdrawal_usd: 50}\n");
    await env.buy(1, 200n, "0x");
    let t = performance.now();
    const dry = await runBlockhost(["funds", "run", "--dry-run"], { root: env.root });
    const dryMs = performance.now() - t;
    t = performance.now();
    const run = await runBlockhost(["funds", "run"], { root: env.root });
    const runMs = performance.now() - t;
    if (dry.code !== 0 || run.code !== 0) throw new Error(`funds run failed: ${dry.stderr}${run.stderr}`);
    const transfers = run.stdout.split("\n").filter((l) => / 0x[0-9a-f]{64}$/.test(l)).length;
    return [
      {
        name: `fund cycle + gas check on anvil, ${transfers} transactions (blockhost funds run, incl. hot wallet creation)`,
        value: runMs.toFixed(0),
        unit: "ms",
      },
      { name: "same cycle planned only (blockhost funds run --dry-run)", value: dryMs.toFixed(0), unit: "ms" },
    ];
  } finally {
    await agent.stop();
    await env.stop();
  }
}
