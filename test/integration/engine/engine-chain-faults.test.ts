/** The engine through RPC outages and reorgs. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv, eventually, type EngineProcess } from "../../helpers/engine-env.ts";

setDefaultTimeout(180_000);

describe.skipIf(!anvilAvailable())("engine under chain faults (anvil, compiled binary, dry-run backend)", () => {
  describe("anvil stops and comes back with its state", () => {
    let env: EngineEnv;
    let engine: EngineProcess;
    beforeAll(async () => {
      env = await EngineEnv.create({
        anvil: { statePath: join(require("node:os").tmpdir(), `anvil-state-${process.pid}-${Date.now()}.json`) },
      });
      engine = env.startEngine();
    });
    afterAll(async () => {
      expect(await engine?.stop()).toBe(0);
      await env?.stop();
    });

    test("purchases the engine never saw are provisioned once the RPC is back", async () => {
      const bh = (args: string[]) => runBlockhost(args, { root: env.root });
      const vms = () => env.vms();
      await env.buy(1);
      await eventually(async () => (await vms()).some((v) => v.nft_minted), "first VM");
      // The engine is down while two purchases happen, then comes up while the RPC is down.
      expect(await engine.stop()).toBe(0);
      const second = await env.buy(2);
      const third = await env.buy(3);
      await env.anvil.stop();
      engine = env.startEngine();
      await eventually(
        () => engine.events().some((e) => e.event === "engine.poll_failed"),
        "engine notices the outage",
      );
      const down = JSON.parse((await bh(["status", "--json"])).stdout) as {
        chain: { head: number | null; rpc_error: string | null };
      };
      expect(down.chain.head).toBeNull();
      expect(down.chain.rpc_error).toContain("unreachable");
      await env.anvil.restart();
      const all = await eventually(async () => {
        const v = await vms();
        return v.filter((x) => x.nft_minted).length === 3 ? v : null;
      }, "three VMs with NFTs");
      expect(all.map((v) => v.subscription_id).sort()).toEqual([1, second.subscriptionId, third.subscriptionId]);
      expect(await env.nftTotal()).toBe(3);
    });
  });

  test("with the first RPC URL dead, the fallback URL serves the engine", async () => {
    const env = await EngineEnv.create({ deadRpcFirst: true });
    const engine = env.startEngine();
    try {
      const p = await env.buy(1);
      const [vm] = await eventually(async () => {
        const v = await env.vms();
        return v[0]?.nft_minted ? v : null;
      }, "VM via the fallback RPC");
      expect(vm!.subscription_id).toBe(p.subscriptionId);
    } finally {
      expect(await engine.stop()).toBe(0);
      await env.stop();
    }
  });

  test("a mint sent but never recorded (crash) is found on the chain instead of minted twice", async () => {
    const env = await EngineEnv.create();
    try {
      const p = await env.buy(1);
      expect(await env.startEngine(["--once"]).done).toBe(0);
      expect(await env.nftTotal()).toBe(1);
      env.rewindMint(p);
      const again = env.startEngine(["--once"]);
      expect(await again.done).toBe(0);
      expect(again.events().find((e) => e.event === "engine.credential")).toMatchObject({
        minted: false,
        recovered: true,
        token_id: "0",
      });
      expect(await env.nftTotal()).toBe(1);
      const [vm] = await env.vms();
      expect(vm).toMatchObject({ nft_minted: true, nft_token_id: 0 });
    } finally {
      await env.stop();
    }
  });

  describe("reorgs", () => {
    let env: EngineEnv;
    let engine: EngineProcess;
    const vms = () => env.vms();
    const cursor = async () =>
      (
        JSON.parse((await runBlockhost(["status", "--json"], { root: env.root })).stdout) as {
          chain: { cursor: number | null };
        }
      ).chain.cursor ?? -1;
    beforeAll(async () => {
      env = await EngineEnv.create({ confirmations: 3 });
      engine = env.startEngine();
    });
    afterAll(async () => {
      expect(await engine?.stop()).toBe(0);
      await env?.stop();
    });

    test("a purchase dropped by a reorg before it was confirmed leaves no VM and no NFT", async () => {
      const snap = await env.anvil.snapshot();
      const dropped = await env.buy(1);
      await env.anvil.mine(1);
      const head = Number(await env.net.pub.getBlockNumber());
      await eventually(async () => (await cursor()) >= head - 3, "engine reached the confirmed head");
      expect(await vms()).toEqual([]);
      await env.anvil.revert(snap);
      await env.anvil.mine(2);
      const kept = await env.buy(2);
      expect(kept.subscriptionId).toBe(dropped.subscriptionId);
      await env.anvil.mine(3);
      const [vm] = await eventually(async () => {
        const v = await vms();
        return v.length && v[0]!.nft_minted ? v : null;
      }, "the surviving purchase's VM");
      expect(vm!.wallet_address).toBe(env.anvil.accounts[2]!.address);
      expect(await vms()).toHaveLength(1);
      expect(await env.nftTotal()).toBe(1);
      expect(await env.nftOwner(vm!.nft_token_id!)).toBe(env.anvil.accounts[2]!.address);
    });

    test("a reorg deeper than the cursor is detected by block hash and rewound", async () => {
      const snap = await env.anvil.snapshot();
      await env.anvil.mine(10);
      const head = Number(await env.net.pub.getBlockNumber());
      await eventually(async () => (await cursor()) >= head - 3, "cursor advanced into the blocks about to be dropped");
      await env.anvil.revert(snap);
      await env.anvil.mine(12);
      await eventually(() => engine.events().some((e) => e.event === "engine.reorg"), "reorg detected");
      const after = await env.buy(3);
      await env.anvil.mine(3);
      await eventually(
        async () => (await vms()).some((v) => v.subscription_id === after.subscriptionId && v.nft_minted),
        "provisioning continues after the rewind",
      );
      expect(await vms()).toHaveLength(2);
    });
  });
});
