/** Benchmark: engine throughput (catch-up, burst, latency, RSS) beside the chain's own limit and the sequential baseline. */
import { readFileSync } from "node:fs";
import { encodeFunctionData, getAbiItem, type Hex } from "viem";
import { accessCredentialNftAbi } from "../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import type { BenchRow } from "./agent.ts";
import { EngineEnv } from "../helpers/engine-env.ts";

/**
 * Engine throughput on anvil with 1 s interval mining and the dry-run backend, each figure beside
 * the chain's own limit measured in the same run (block gas limit ÷ mint gas ÷ block time):
 * catch-up from a backlog of `purchases` (and the same with one job at a time, on a smaller
 * backlog, as the sequential baseline); a burst of `burst` purchases mined in one block → time
 * and blocks until the last NFT; one purchase → NFT latency in blocks; RSS at rest with the
 * backlog's VMs in the database, and peak RSS.
 */
export async function benchEngine(
  purchases = Number(process.env.BENCH_ENGINE_PURCHASES ?? 5000),
  burst = Number(process.env.BENCH_ENGINE_BURST ?? 200),
  sequential = Number(process.env.BENCH_ENGINE_SEQUENTIAL ?? 60),
  steadyVms = Number(process.env.BENCH_ENGINE_STEADY ?? 1000),
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const base = await catchUp(sequential, 1);
  const steady = await catchUp(steadyVms, undefined);
  const run = await catchUp(purchases, undefined, async (env, engineRows) => {
    engineRows.push(...(await burstAndLatency(env, burst)));
  });
  const limit = run.limit;
  rows.push(
    {
      name: `chain limit this run (block gas limit ${run.gasLimit} ÷ mean mint gas ${run.mintGas} ÷ 1 s blocks)`,
      value: limit.toFixed(1),
      unit: "mints/s",
    },
    {
      name: `engine catch-up, ${purchases} purchases backlog (dry-run backend, concurrency ${run.concurrency})`,
      value: run.rate.toFixed(1),
      unit: `purchases/s (${((100 * run.rate) / limit).toFixed(0)} % of limit)`,
    },
    {
      name: "engine CPU time per purchase in that catch-up (the rate one free core would allow)",
      value: run.cpuMsPer.toFixed(1),
      unit: `ms (${(1000 / run.cpuMsPer).toFixed(0)} purchases/s)`,
    },
    {
      name: "anvil CPU time per purchase in that catch-up (mining, estimates, receipts, logs)",
      value: run.anvilCpuMsPer.toFixed(1),
      unit: "ms",
    },
    {
      name: `same, one job at a time (the previous design), ${sequential} purchases`,
      value: base.rate.toFixed(1),
      unit: `purchases/s (${((100 * base.rate) / limit).toFixed(0)} % of limit)`,
    },
    ...run.extra,
    {
      name: `engine steady RSS with ${steadyVms} VMs in the database (idle after catching up; target ≤ 80 MiB)`,
      value: (steady.restKb / 1024).toFixed(0),
      unit: "MiB",
    },
    {
      name: `same with ${purchases} VMs in the database`,
      value: (run.restKb / 1024).toFixed(0),
      unit: "MiB",
    },
    {
      name: `engine peak RSS during the ${purchases}-purchase catch-up and burst`,
      value: (run.peakKb / 1024).toFixed(0),
      unit: "MiB",
    },
  );
  return rows;
}

/** How long the engine idles after catching up before its resting RSS is read. */
const REST_MS = 5000;

interface CatchUp {
  rate: number;
  limit: number;
  gasLimit: bigint;
  mintGas: bigint;
  concurrency: string;
  extra: BenchRow[];
  restKb: number;
  /** Engine CPU time (user + system) per purchase during the catch-up: what the load of a shared machine cannot change. */
  cpuMsPer: number;
  /** The node's CPU time per purchase in the same catch-up (on 2 cores the engine and the node share them). */
  anvilCpuMsPer: number;
  peakKb: number;
}

async function catchUp(
  n: number,
  concurrency: number | undefined,
  after?: (env: EngineEnv, rows: BenchRow[]) => Promise<void>,
): Promise<CatchUp> {
  const env = await EngineEnv.create({
    ipPool: "{network: '10.64.0.0/16', start: 10, end: 65000, gateway: '10.64.0.1'}",
    vmidRange: { start: 100, end: 999_999 },
    engine: {
      reconcile_interval_s: 86_400,
      poll_interval_ms: 250,
      ...(concurrency ? { concurrency, chain_concurrency: concurrency } : {}),
    },
  });
  try {
    await fillBacklog(env, n);
    await env.anvil.rpc("evm_setIntervalMining", [1]);
    const anvilCpuBefore = cpuMsOf(env.anvil.pid!);
    const startedAt = performance.now();
    const engine = env.startEngine();
    await waitFor(async () => (await env.nftTotal()) >= n);
    const rate = n / ((performance.now() - startedAt) / 1000);
    const cpuMs = cpuMsOf(engine.proc.pid);
    const anvilCpuMs = cpuMsOf(env.anvil.pid!) - anvilCpuBefore;
    // At rest: every job done and recorded, a few idle polls later.
    await waitFor(async () => engine.events().filter((e) => e.event === "engine.credential").length >= n);
    await Bun.sleep(REST_MS);
    const restKb = rssKb(engine.proc.pid);
    const extra: BenchRow[] = [];
    if (after) await after(env, extra);
    const code = await engine.stop();
    if (code !== 0) throw new Error(`engine exited ${code}: ${engine.log.slice(-2000)}`);
    const minted = await env.nftTotal();
    const vms = engine.events().filter((e) => e.event === "engine.credential").length;
    if (vms !== minted) throw new Error(`engine recorded ${vms} credentials for ${minted} NFTs`);
    const gasLimit = (await env.net.pub.getBlock()).gasLimit;
    const mintGas = await meanMintGas(env);
    const started = engine.events().find((e) => e.event === "engine.started");
    return {
      rate,
      gasLimit,
      mintGas,
      limit: Number(gasLimit) / Number(mintGas),
      concurrency: `${started?.chain_concurrency ?? "?"} jobs, ${started?.concurrency ?? "?"} creates`,
      extra,
      restKb,
      cpuMsPer: cpuMs / n,
      anvilCpuMsPer: anvilCpuMs / n,
      peakKb: Number(engine.events().find((e) => e.event === "engine.stopped")?.max_rss_kb ?? 0),
    };
  } finally {
    await env.stop();
  }
}

/** With the engine caught up: `burst` purchases in one block, then one purchase alone. */
async function burstAndLatency(env: EngineEnv, burst: number): Promise<BenchRow[]> {
  const before = await env.nftTotal();
  await env.anvil.rpc("evm_setIntervalMining", [0]);
  const purchaseBlock = await fillBacklog(env, burst, 1);
  const t0 = performance.now();
  await env.anvil.rpc("evm_setIntervalMining", [1]);
  await waitFor(async () => (await env.nftTotal()) >= before + burst);
  const burstSeconds = (performance.now() - t0) / 1000;
  const burstBlocks = (await lastMintBlock(env, purchaseBlock)) - purchaseBlock;
  const one = await env.buy(1);
  await waitFor(async () => (await env.nftTotal()) >= before + burst + 1);
  const oneBlocks = (await lastMintBlock(env, one.block)) - one.block;
  return [
    {
      name: `burst of ${burst} purchases in one block → last NFT minted (confirmations 0)`,
      value: burstSeconds.toFixed(1),
      unit: `s (${burstBlocks} blocks after the purchase block)`,
    },
    { name: "one purchase → its NFT (confirmations 0, 1 s blocks)", value: String(oneBlocks), unit: "blocks" },
  ];
}

/**
 * The mean gas of this run's mints, from a sample of up to 50 receipts spread over the run (the
 * first mints cost less: a recipient's first token and the contract's first token write fresh
 * storage slots differently, so one receipt would misstate the limit).
 */
async function meanMintGas(env: EngineEnv): Promise<bigint> {
  const logs = await env.net.pub.getLogs({
    address: env.nft,
    event: getAbiItem({ abi: accessCredentialNftAbi, name: "CredentialMinted" }),
    fromBlock: 0n,
  });
  const step = Math.max(1, Math.floor(logs.length / 50));
  const sample = logs.filter((_, i) => i % step === 0);
  const receipts = await Promise.all(
    sample.map((l) => env.net.pub.getTransactionReceipt({ hash: l.transactionHash! })),
  );
  return receipts.reduce((sum, r) => sum + r.gasUsed, 0n) / BigInt(receipts.length);
}

/** The block of the newest CredentialMinted log at or after `from`. */
async function lastMintBlock(env: EngineEnv, from: bigint): Promise<bigint> {
  const logs = await env.net.pub.getLogs({
    address: env.nft,
    event: getAbiItem({ abi: accessCredentialNftAbi, name: "CredentialMinted" }),
    fromBlock: from,
  });
  let top = from;
  for (const l of logs) if (l.blockNumber! > top) top = l.blockNumber!;
  return top;
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await Bun.sleep(200);
}

/** User + system CPU time of a process so far (from /proc, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/**
 * Put `n` purchases from the nine buyers on the chain quickly: automine off, every transaction
 * sent with an explicit nonce and gas, then blocks mined until the last one of each buyer landed.
 */
export async function fillBacklog(env: EngineEnv, n: number, mineBatch = 10): Promise<bigint> {
  const buyers = Array.from({ length: 9 }, (_, i) => i + 1);
  const payloads = await Promise.all(buyers.map((b) => env.payloadFor(b)));
  const fees = await env.net.pub.estimateFeesPerGas();
  const last: Hex[] = [];
  let block = 0n;
  await env.anvil.rpc("evm_setAutomine", [false]);
  try {
    await Promise.all(
      buyers.map(async (b, i) => {
        const wallet = env.net.wallets[b]!;
        let nonce = await env.net.pub.getTransactionCount({ address: env.net.addresses[b]!, blockTag: "pending" });
        let hash: Hex | undefined;
        for (let k = i; k < n; k += buyers.length) {
          const data = encodeFunctionData({
            abi: blockhostSubscriptionsAbi,
            functionName: "buySubscription",
            args: [1n, 30n, 1n, payloads[i]!],
          });
          hash = await wallet.sendTransaction({
            account: wallet.account!,
            chain: wallet.chain,
            to: env.subs,
            data,
            gas: 400_000n,
            nonce: nonce++,
            maxFeePerGas: fees.maxFeePerGas! * 4n,
            maxPriorityFeePerGas: fees.maxPriorityFeePerGas!,
          });
        }
        if (hash) last.push(hash);
      }),
    );
    for (const h of last) {
      for (;;) {
        const r = await env.net.pub.getTransactionReceipt({ hash: h }).catch(() => null);
        if (r) {
          if (r.status !== "success") throw new Error(`backlog purchase ${h} reverted`);
          if (r.blockNumber > block) block = r.blockNumber;
          break;
        }
        await env.anvil.mine(mineBatch);
      }
    }
  } finally {
    await env.anvil.rpc("evm_setAutomine", [true]);
  }
  return block;
}
