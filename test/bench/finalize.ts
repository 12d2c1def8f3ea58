/** `finalize` wall time on anvil (compiled binary, fresh host, dry-run), next to the same five transactions sent bare. */
import { encodeDeployData, encodeFunctionData, getAddress, type Hex } from "viem";
import {
  accessCredentialNftAbi,
  accessCredentialNftBytecode,
} from "../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import {
  blockhostSubscriptionsAbi,
  blockhostSubscriptionsBytecode,
} from "../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { startAnvil, type Anvil } from "../helpers/anvil.ts";
import { devnet } from "../helpers/contracts.ts";
import { deployTestStablecoin, setupHost } from "../helpers/setup-host.ts";
import type { BenchRow } from "./agent.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Baseline: deploy both contracts, mint #0, set the stablecoin, create the plan — with viem, nothing else. */
async function bareTransactions(anvil: Anvil, stablecoin: Hex): Promise<number> {
  const net = devnet(anvil);
  const wallet = net.wallets[2]!;
  const send = async (to: Hex | undefined, data: Hex) => {
    const hash = await wallet.sendTransaction({ account: wallet.account!, chain: wallet.chain, to, data });
    return await net.pub.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  };
  const started = performance.now();
  const nft = getAddress(
    (
      await send(
        undefined,
        encodeDeployData({
          abi: accessCredentialNftAbi,
          bytecode: accessCredentialNftBytecode,
          args: ["BlockhostAccess", "BHA"],
        }),
      )
    ).contractAddress!,
  );
  const subs = getAddress(
    (
      await send(
        undefined,
        encodeDeployData({ abi: blockhostSubscriptionsAbi, bytecode: blockhostSubscriptionsBytecode }),
      )
    ).contractAddress!,
  );
  await send(
    nft,
    encodeFunctionData({ abi: accessCredentialNftAbi, functionName: "mint", args: [net.addresses[4]!, "0x1234"] }),
  );
  await send(
    subs,
    encodeFunctionData({ abi: blockhostSubscriptionsAbi, functionName: "setPrimaryStablecoin", args: [stablecoin] }),
  );
  await send(
    subs,
    encodeFunctionData({ abi: blockhostSubscriptionsAbi, functionName: "createPlan", args: ["Basic", 100n] }),
  );
  return performance.now() - started;
}

export async function benchFinalize(runs = 3): Promise<BenchRow[]> {
  const full: number[] = [];
  const again: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const anvil = await startAnvil();
    try {
      const stablecoin = await deployTestStablecoin(anvil);
      bare.push(await bareTransactions(anvil, stablecoin));
      const host = await setupHost(anvil, stablecoin);
      try {
        let t = performance.now();
        const r = await host.finalize();
        if (r.code !== 0) throw new Error(`finalize failed: ${r.stderr}`);
        full.push(performance.now() - t);
        t = performance.now();
        await host.finalize();
        again.push(performance.now() - t);
      } finally {
        await host.stop();
      }
    } finally {
      await anvil.stop();
    }
  }
  return [
    {
      name: `finalize, fresh host on anvil (12 steps, 5 transactions; median of ${runs})`,
      value: median(full).toFixed(0),
      unit: "ms",
    },
    { name: "baseline: the same 5 transactions sent bare with viem", value: median(bare).toFixed(0), unit: "ms" },
    { name: "finalize again on a finished host (every step skipped)", value: median(again).toFixed(0), unit: "ms" },
  ];
}
