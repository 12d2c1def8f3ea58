/** finalize killed with SIGKILL inside every step and around every transaction: each re-run resumes, nothing on chain twice. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { Hex } from "viem";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostSubscriptionsAbi } from "../../../src/chain/contracts/generated/BlockhostSubscriptions.ts";
import { listSteps } from "../../../src/core/state/setup.ts";
import { STEP_NAMES } from "../../../src/setup/steps/index.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { devnet } from "../../helpers/contracts.ts";
import { SETUP_ACCOUNT, useSetupHost } from "../../helpers/setup-host.ts";

const skip = !anvilAvailable();
if (skip) console.warn("skipping finalize crash tests: anvil cannot run on this platform");

/** Where a transaction-sending step can die: after recording its signed transaction, and after broadcasting it. */
const txPoints = (key: string) => [`${key}:recorded`, `${key}:sent`];

describe.skipIf(skip)("finalize killed (SIGKILL) inside every step", () => {
  const f = useSetupHost();

  function stepStates(): Record<string, string> {
    const db = new Database(join(f.host.root, "var/lib/blockhost/blockhost.db"), { readonly: true });
    try {
      return Object.fromEntries(listSteps(db).map((s) => [s.step, s.status]));
    } finally {
      db.close();
    }
  }

  test("each re-run resumes; the chain ends with no duplicate transaction", async () => {
    const points: string[] = [];
    // Each step dies once its work is done but not yet recorded (the most dangerous instant), and every
    // transaction-sending step also right after recording its signed transaction and right after sending it.
    for (const step of STEP_NAMES) {
      if (step === "contracts") points.push(...txPoints("deploy:nft"), ...txPoints("deploy:subscriptions"));
      if (step === "mint_nft") points.push(...txPoints("nft0:mint"));
      if (step === "plan")
        points.push(...txPoints(`stablecoin:${f.stablecoin.toLowerCase()}`), ...txPoints("plan:Basic:100"));
      points.push(`${step}:before-record`);
    }
    for (const point of points) {
      // One transaction is killed while still pending and then lost from the node's pool: the re-run must re-broadcast it.
      const lost = point === "deploy:subscriptions:sent";
      if (lost) await f.anvil.rpc("evm_setAutomine", [false]);
      const r = await f.host.finalize(undefined, { BLOCKHOST_SETUP_CRASH_AT: point });
      expect({ point, code: r.code, done: r.stdout.includes("setup complete") }).toEqual({
        point,
        code: 137,
        done: false,
      });
      const [step] = point.split(":");
      const owner = STEP_NAMES.includes(step!)
        ? step!
        : { deploy: "contracts", nft0: "mint_nft", stablecoin: "plan", plan: "plan" }[step!]!;
      expect(stepStates()[owner]).toBe("running");
      if (lost) {
        await f.anvil.rpc("anvil_dropAllTransactions");
        await f.anvil.rpc("evm_setAutomine", [true]);
      }
    }
    const final = await f.host.finalize();
    expect(final.code).toBe(0);
    expect(Object.values(stepStates())).toEqual(Array(STEP_NAMES.length).fill("done"));

    const { pub } = devnet(f.anvil);
    const web3 = parse(readFileSync(join(f.host.root, "etc/blockhost/web3-defaults.yaml"), "utf8"));
    const nft = web3.blockchain.nft_contract as Hex;
    const subs = web3.blockchain.subscription_contract as Hex;
    // Two deployments, one mint, the stablecoin and the plan: five transactions, none twice.
    expect(await pub.getTransactionCount({ address: f.anvil.accounts[SETUP_ACCOUNT.deployer]!.address })).toBe(5);
    expect(await pub.readContract({ address: nft, abi: accessCredentialNftAbi, functionName: "totalSupply" })).toBe(1n);
    expect(
      await pub.readContract({ address: subs, abi: blockhostSubscriptionsAbi, functionName: "getTotalPlanCount" }),
    ).toBe(1n);
  }, 180_000);
});
