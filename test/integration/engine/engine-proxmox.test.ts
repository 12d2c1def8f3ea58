/** The engine with the Proxmox backend (real agent, qm simulator). */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decryptWithSignature, utf8 } from "../../../src/crypto/symmetric.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv, eventually, type EngineProcess } from "../../helpers/engine-env.ts";
import { anvilProxmoxUnavailable, startProxmoxHost, type ProxmoxHost } from "../../helpers/proxmox-host.ts";

setDefaultTimeout(120_000);

const unavailable = anvilProxmoxUnavailable();
if (unavailable) console.log(`skip: engine + proxmox tests: ${unavailable}`);

describe.skipIf(Boolean(unavailable))("engine with the proxmox backend (real agent, qm simulator)", () => {
  let env: EngineEnv;
  let host: ProxmoxHost;
  let engine: EngineProcess;
  const bh = (args: string[]) => runBlockhost(args, { root: env.root });
  const vmOf = (sub: number) => env.vmOf(sub);

  beforeAll(async () => {
    env = await EngineEnv.create({
      backend: "proxmox",
      ipv6Prefix: "2001:db8:77::/120",
      engine: { stop_grace_ms: 300 },
    });
    host = await startProxmoxHost(env.root);
    engine = env.startEngine();
  });
  afterAll(async () => {
    expect(await engine?.stop()).toBe(0);
    await host?.stop();
    await env?.stop();
  });

  test("a purchase: VM row, cloned VM with the right cloud-init, NFT to the buyer that decrypts to the VM's address", async () => {
    const p = await env.buy(1, 30n);
    const vm = await env.servedVm(p.subscriptionId, "VM + NFT + GECOS", { gecos: true });
    const buyer = env.anvil.accounts[1]!.address;
    expect(host.sim.vm(vm.vmid)).toMatchObject({ name: "blockhost-001", status: "running" });
    const userData = readFileSync(join(env.root, "var/lib/vz/snippets/blockhost-blockhost-001.yaml"), "utf8");
    expect(userData).toContain("hostname: blockhost-001");
    expect(userData).toContain(`gecos: wallet=${buyer}`);
    expect(userData).toMatch(/secret_key = "[0-9a-f]{64}"/);
    expect(await env.nftOwner(vm.nft_token_id!)).toBe(buyer);
    const details = JSON.parse(utf8(decryptWithSignature(p.signature, await env.nftPayload(vm.nft_token_id!))));
    expect(details).toEqual({ hostname: vm.ipv6_address, port: 22, username: vm.username });
    const usermod = host.sim.calls().filter((c) => c[0] === "guest" && c.includes("/usr/sbin/usermod"));
    expect(usermod.at(-1)).toEqual(expect.arrayContaining(["-c", `wallet=${buyer},nft=${vm.nft_token_id}`, "admin"]));
  });

  test("an NFT transfer reaches the VM's GECOS on the next reconcile", async () => {
    const vm = (await vmOf(1))!;
    const newOwner = env.anvil.accounts[6]!.address;
    await env.transferNft(vm.nft_token_id!, 1, 6);
    await eventually(
      () => host.sim.calls().some((c) => c[0] === "guest" && c.includes(`wallet=${newOwner},nft=${vm.nft_token_id}`)),
      "GECOS usermod with the new owner",
    );
    await eventually(async () => {
      const v = await vmOf(1);
      return v?.gecos_synced && v.owner_wallet === newOwner;
    }, "owner recorded");
  });

  test("a failing qm clone is retried, shows in status, and succeeds once the fault clears", async () => {
    host.setFault("clone", "simulated: storage full");
    const p = await env.buy(2, 30n);
    const seen = await eventually(async () => {
      const s = JSON.parse((await bh(["status", "--json"])).stdout) as {
        failing_jobs: Array<{ key: string; state: string; attempts: number; last_error: string }>;
      };
      return s.failing_jobs.find(
        (j) => j.key.endsWith(`:${p.subscriptionId}`) && j.state === "failed" && j.attempts >= 2,
      );
    }, "retried job failing in status");
    const text = (await bh(["status"])).stdout;
    host.setFault("clone", undefined);
    expect(seen!.last_error).toContain("simulated: storage full");
    expect(text).toMatch(
      /(failed|running) provision:31337:2 after \d+ attempt\(s\), (retry at|retrying now).*simulated: storage full/,
    );
    const vm = await env.servedVm(p.subscriptionId, "VM after retry");
    expect(host.sim.vm(vm.vmid)!.status).toBe("running");
    expect(host.sim.vms().filter((v) => !v.template)).toHaveLength(2);
    expect(await env.nftTotal()).toBe(2);
  });

  test("SIGTERM while a job waits for the guest agent parks it; the next engine finishes it", async () => {
    host.sim.setGuestAgentDown(true);
    const p = await env.buy(3, 30n);
    await eventually(() => engine.log.includes("waiting for the guest agent"), "job waiting for the guest agent");
    expect(await engine.stop()).toBe(0);
    expect(engine.events().some((e) => e.event === "engine.job_parked")).toBe(true);
    const parked = JSON.parse((await bh(["status", "--json"])).stdout) as { jobs: Record<string, number> };
    expect(parked.jobs.queued).toBeGreaterThanOrEqual(1);
    expect(parked.jobs.running).toBe(0);
    host.sim.setGuestAgentDown(false);
    engine = env.startEngine();
    const vm = await env.servedVm(p.subscriptionId, "VM after restart");
    expect(host.sim.vm(vm.vmid)!.status).toBe("running");
    expect(host.sim.vms().filter((v) => !v.template)).toHaveLength(3);
    expect(await env.nftTotal()).toBe(3);
  });
});
