/** The engine killed at random moments: one VM and one NFT per purchase. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { decryptWithSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import { EngineEnv, eventually, type EngineProcess, type Purchase } from "../../helpers/engine-env.ts";
import { anvilProxmoxUnavailable, startProxmoxHost, type ProxmoxHost } from "../../helpers/proxmox-host.ts";
import { seededRandom } from "../../helpers/seeded-random.ts";

setDefaultTimeout(600_000);

const PURCHASES = 50;
const unavailable = anvilProxmoxUnavailable();
if (unavailable) console.log(`skip: crash test: ${unavailable}`);

describe.skipIf(Boolean(unavailable))("crash safety: kill -9 the engine at random moments during 50 purchases", () => {
  let env: EngineEnv;
  let host: ProxmoxHost;
  let engine: EngineProcess;
  let kills = 0;
  const killed: EngineProcess[] = [];

  beforeAll(async () => {
    env = await EngineEnv.create({
      backend: "proxmox",
      ipPool: "{network: '10.9.0.0/24', start: 10, end: 250, gateway: '10.9.0.1'}",
      ipv6Prefix: "2001:db8:99::/120",
    });
    host = await startProxmoxHost(env.root);
  });
  afterAll(async () => {
    await engine?.stop();
    await host?.stop();
    await env?.stop();
  });

  test("exactly 50 VMs and 50 NFTs, none twice, each NFT opening to its own VM", async () => {
    const random = seededRandom("engine crash test");
    engine = env.startEngine();
    const purchases: Purchase[] = [];
    const buyer = (async () => {
      for (let i = 0; i < PURCHASES; i++) purchases.push(await env.buy(1 + (i % 9), 30n));
    })();
    const vms = () => env.vms();
    // While purchases land and are provisioned, SIGKILL the engine after a random 100–900 ms of
    // work and start it again, until everything is done (at most 40 kills, then let it finish).
    while (
      kills < 40 &&
      (purchases.length < PURCHASES || (await vms()).filter((v) => v.nft_minted).length < PURCHASES)
    ) {
      await Bun.sleep(random.int(100, 900));
      await engine.stop("SIGKILL");
      killed.push(engine);
      kills++;
      engine = env.startEngine();
    }
    await buyer;
    const final = await eventually(async () => {
      const v = await vms();
      return v.filter((x) => x.nft_minted).length >= PURCHASES ? v : null;
    }, "50 VMs with NFTs");
    const events = killed.flatMap((e) => e.events());
    const abandoned = events
      .filter((e) => e.event === "engine.started")
      .reduce((n, e) => n + Number(e.recovered_jobs ?? 0), 0);
    const recoveredMints = [...killed, engine]
      .flatMap((e) => e.events())
      .filter((e) => e.event === "engine.credential" && e.recovered).length;
    console.log(
      `seed ${random.seed}: engine killed ${kills} times during ${PURCHASES} purchases; ${abandoned} in-flight jobs taken over after a kill; ${recoveredMints} mints found on chain instead of minting again`,
    );
    expect(kills).toBeGreaterThan(3);

    const live = final.filter((v) => v.status === "active");
    expect(live).toHaveLength(PURCHASES);
    expect(final.filter((v) => v.status !== "active")).toEqual([]);
    expect(new Set(live.map((v) => v.subscription_id)).size).toBe(PURCHASES);
    expect(new Set(live.map((v) => v.nft_token_id)).size).toBe(PURCHASES);
    expect(new Set(live.map((v) => v.ip_address)).size).toBe(PURCHASES);
    expect(await env.nftTotal()).toBe(PURCHASES);
    const simVms = host.sim.vms().filter((v) => !v.template);
    expect(simVms).toHaveLength(PURCHASES);
    expect(new Set(simVms.map((v) => v.vmid))).toEqual(new Set(live.map((v) => v.vmid)));
    for (const p of purchases) {
      const vm = live.find((v) => v.subscription_id === p.subscriptionId)!;
      expect(vm.wallet_address).toBe(env.anvil.accounts[p.buyer]!.address);
      expect(await env.nftOwner(vm.nft_token_id!)).toBe(env.anvil.accounts[p.buyer]!.address);
      const details = JSON.parse(utf8(decryptWithSignature(p.signature, await env.nftPayload(vm.nft_token_id!))));
      expect(details).toEqual({ hostname: vm.ipv6_address, port: 22, username: vm.username });
    }
  });
});
