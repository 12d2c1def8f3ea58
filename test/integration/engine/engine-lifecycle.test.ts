/** The engine through purchase, extension, expiry and cancellation. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { afterReconcilePasses } from "../../helpers/engine-checks.ts";
import { EngineEnv, eventually, type EngineProcess } from "../../helpers/engine-env.ts";

setDefaultTimeout(120_000);

describe.skipIf(!anvilAvailable())("engine lifecycle (anvil, compiled binary, dry-run backend)", () => {
  let env: EngineEnv;
  let engine: EngineProcess;
  const bh = (args: string[], extra: Record<string, string> = {}) => runBlockhost(args, { root: env.root, env: extra });
  const vmOf = (sub: number) => env.vmOf(sub);
  const status = async () =>
    JSON.parse((await bh(["status", "--json"])).stdout) as {
      jobs: Record<string, number>;
      failing_jobs: Array<{ key: string; state: string; last_error: string }>;
      vms: Record<string, number>;
      chain: { cursor: number | null; head: number | null; lag: number | null };
    };

  beforeAll(async () => {
    env = await EngineEnv.create();
    engine = env.startEngine();
  });
  afterAll(async () => {
    const code = await engine?.stop();
    expect(code).toBe(0);
    expect(engine.events().some((e) => e.event === "engine.stopped")).toBe(true);
    await env?.stop();
  });

  test("a purchase becomes a VM and an NFT whose payload opens with the buyer's signature", async () => {
    const p = await env.buy(1, 30n);
    const vm = await env.servedVm(p.subscriptionId, "VM with NFT");
    expect(vm).toMatchObject({
      vm_name: "blockhost-001",
      status: "active",
      wallet_address: env.anvil.accounts[1]!.address,
    });
    const sub = await env.subscription(p.subscriptionId);
    expect(Date.parse(vm.expires_at) / 1000).toBe(Number(sub.expiresAt));
    expect(await env.nftOwner(vm.nft_token_id!)).toBe(env.anvil.accounts[1]!.address);
    const { decryptWithSignature, utf8 } = await import("../../../src/crypto/symmetric.ts");
    const details = JSON.parse(utf8(decryptWithSignature(p.signature, await env.nftPayload(vm.nft_token_id!))));
    expect(details).toEqual({ hostname: vm.ip_address, port: 22, username: "admin" });
  });

  test("an extension takes the new expiry from the chain (never adds twice)", async () => {
    const p = await env.buy(2, 10n);
    await eventually(async () => (await vmOf(p.subscriptionId))?.nft_minted, "second VM");
    await env.extend(p.subscriptionId, 5n);
    await env.extend(p.subscriptionId, 5n, 3);
    const chainExpiry = Number((await env.subscription(p.subscriptionId)).expiresAt);
    await eventually(
      async () => Date.parse((await vmOf(p.subscriptionId))!.expires_at) / 1000 === chainExpiry,
      "expiry synced",
    );
    // Reconcile passes later (they re-read every expiry from the chain) it must still be exactly the chain's value.
    const vm = (await vmOf(p.subscriptionId))!;
    await afterReconcilePasses(env, engine, vm.nft_token_id!, 2, 8);
    expect(Date.parse((await vmOf(p.subscriptionId))!.expires_at) / 1000).toBe(chainExpiry);
  });

  test("an extension of a suspended VM resumes it with the chain's new expiry", async () => {
    const p = await env.buy(6, 1n);
    const vm = await env.servedVm(p.subscriptionId, "short VM");
    const later = { BLOCKHOST_NOW: String(Math.floor(Date.parse(vm.expires_at) / 1000) + 3600) };
    expect((await bh(["gc", "--execute"], later)).stdout).toContain(`suspended ${vm.vm_name}`);
    await env.extend(p.subscriptionId, 30n, 6);
    const chainExpiry = Number((await env.subscription(p.subscriptionId)).expiresAt);
    const resumed = await eventually(async () => {
      const v = await vmOf(p.subscriptionId);
      return v?.status === "active" ? v : null;
    }, "resumed");
    expect(Date.parse(resumed.expires_at) / 1000).toBe(chainExpiry);
    expect(resumed.suspended_at).toBeNull();
  });

  test("a cancellation destroys the VM and frees its address", async () => {
    const p = await env.buy(3, 30n);
    const vm = await env.servedVm(p.subscriptionId, "third VM");
    await env.cancel(p.subscriptionId);
    await eventually(async () => (await vmOf(p.subscriptionId))?.status === "destroyed", "destroyed");
    const created = await bh(["vm", "create", "manual-1", "--owner-wallet", env.anvil.accounts[5]!.address, "--apply"]);
    expect(created.stdout).toContain(`"ip":"${vm.ip_address}"`);
  });

  test("a payload the server cannot read (raw signature, empty) still gets a VM and an NFT without details", async () => {
    const raw = await env.buy(4, 30n, await env.signature(4));
    const empty = await env.buy(7, 30n, "0x");
    for (const p of [raw, empty]) {
      const vm = await env.servedVm(p.subscriptionId, "VM for an unreadable payload");
      expect(vm.status).toBe("active");
      expect(await env.nftOwner(vm.nft_token_id!)).toBe(env.anvil.accounts[p.buyer]!.address);
      // The raw signature is public on-chain: it must not key the NFT, so the payload stays empty.
      expect(await env.nftPayload(vm.nft_token_id!)).toBe("0x");
    }
    const s = await status();
    expect(s.failing_jobs.filter((j) => j.state === "dead")).toEqual([]);
  });

  test("expiry: gc --execute suspends after the chain's expiry, destroys after the grace period, addresses released", async () => {
    const p = await env.buy(5, 1n);
    const vm = await env.servedVm(p.subscriptionId, "expiring VM");
    await env.anvil.increaseTime(2 * 86_400);
    const chainNow = Number(await env.anvil.blockTimestamp());
    const at = (s: number) => ({ BLOCKHOST_NOW: String(s) });
    expect((await bh(["gc"], at(chainNow))).stdout).toContain(`would suspend ${vm.vm_name}`);
    expect((await bh(["gc", "--execute"], at(chainNow))).stdout).toContain(`suspended ${vm.vm_name}`);
    expect(JSON.parse((await bh(["vm", "status", vm.vm_name, "--json"])).stdout).status).toBe("suspended");
    expect((await bh(["gc", "--execute"], at(chainNow + 8 * 86_400))).stdout).toContain(`destroyed ${vm.vm_name}`);
    expect((await vmOf(p.subscriptionId))!.status).toBe("destroyed");
    expect((await bh(["vm", "create", "manual-2", "--owner-wallet", env.anvil.accounts[5]!.address])).stdout).toContain(
      `ipv4:      ${vm.ip_address}`,
    );
  });

  test("status reports head, cursor, lag, jobs and VM counts", async () => {
    const s = await status();
    expect(s.chain.head).toBeGreaterThan(0);
    expect(s.chain.cursor).not.toBeNull();
    expect(s.jobs.done).toBeGreaterThan(0);
    expect(s.vms.active).toBeGreaterThan(0);
    expect((await bh(["status"])).stdout).toContain("dry-run");
  });
});
