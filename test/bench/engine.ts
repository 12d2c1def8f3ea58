/** Benchmark: engine catch-up over many purchases against a baseline. */
import { encodeFunctionData, type Hex } from "viem";
import { blockhostSubscriptionsAbi } from "../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import type { BenchRow } from "./agent.ts";
import { EngineEnv } from "../helpers/engine-env.ts";

/**
 * Engine catch-up: `purchases` SubscriptionCreated events are already on anvil when the engine
 * starts (dry-run backend), and `blockhost engine --once` runs until every one has a VM and a
 * minted NFT. Reports purchases handled per second and the engine's peak RSS.
 */
export async function benchEngine(purchases = Number(process.env.BENCH_ENGINE_PURCHASES ?? 5000)): Promise<BenchRow[]> {
  const env = await EngineEnv.create({
    ipPool: "{network: '10.64.0.0/16', start: 10, end: 65000, gateway: '10.64.0.1'}",
    vmidRange: { start: 100, end: 999_999 },
    engine: { reconcile_interval_s: 86_400, poll_interval_ms: 25, log_chunk_blocks: 2000 },
  });
  try {
    await fillBacklog(env, purchases);
    const started = performance.now();
    const engine = env.startEngine(["--once"]);
    const code = await engine.done;
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`engine exited ${code}: ${engine.log.slice(-2000)}`);
    const minted = await env.nftTotal();
    if (minted !== purchases) throw new Error(`engine minted ${minted} NFTs for ${purchases} purchases`);
    const rssKb = Number(engine.events().find((e) => e.event === "engine.stopped")?.max_rss_kb ?? 0);
    return [
      { name: `engine catch-up, ${purchases} purchases backlog (dry-run backend: VM + NFT mint each)`, value: (purchases / seconds).toFixed(1), unit: "purchases/s" },
      { name: "engine peak RSS during that catch-up", value: (rssKb / 1024).toFixed(0), unit: "MiB" },
    ];
  } finally {
    await env.stop();
  }
}

/**
 * Put `n` purchases from the nine buyers on the chain quickly: automine off, every transaction
 * sent with an explicit nonce and gas, then blocks mined until the last one of each buyer landed.
 */
async function fillBacklog(env: EngineEnv, n: number): Promise<void> {
  const buyers = Array.from({ length: 9 }, (_, i) => i + 1);
  const payloads = await Promise.all(buyers.map((b) => env.payloadFor(b)));
  const fees = await env.net.pub.estimateFeesPerGas();
  const last: Hex[] = [];
  await env.anvil.rpc("evm_setAutomine", [false]);
  try {
    await Promise.all(buyers.map(async (b, i) => {
      const wallet = env.net.wallets[b]!;
      let nonce = await env.net.pub.getTransactionCount({ address: env.net.addresses[b]!, blockTag: "pending" });
      let hash: Hex | undefined;
      for (let k = i; k < n; k += buyers.length) {
        const data = encodeFunctionData({ abi: blockhostSubscriptionsAbi, functionName: "buySubscription", args: [1n, 30n, 1n, payloads[i]!] });
        hash = await wallet.sendTransaction({ account: wallet.account!, chain: wallet.chain, to: env.subs, data, gas: 400_000n, nonce: nonce++, maxFeePerGas: fees.maxFeePerGas! * 4n, maxPriorityFeePerGas: fees.maxPriorityFeePerGas! });
      }
      if (hash) last.push(hash);
    }));
    for (const h of last) {
      for (;;) {
        const r = await env.net.pub.getTransactionReceipt({ hash: h }).catch(() => null);
        if (r) {
          if (r.status !== "success") throw new Error(`backlog purchase ${h} reverted`);
          break;
        }
        await env.anvil.mine(10);
      }
    }
  } finally {
    await env.anvil.rpc("evm_setAutomine", [true]);
  }
}
