// End to end on real libvirt + qemu: a purchase on anvil becomes a VM the buyer logs into over SSH by signing with their wallet.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { decryptWithSignature, utf8 } from "../../src/crypto/symmetric.ts";
import { anvilAvailable } from "../helpers/anvil.ts";
import { runBlockhost } from "../helpers/binary.ts";
import { type EngineEnv, eventually, type EngineProcess, type VmJson } from "../helpers/engine-env.ts";
import { type LibvirtEngineHost, startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import {
  TEST_BRIDGE,
  TEST_NETWORK,
  ensureLibvirtd,
  libvirtUnavailable,
  p1Split,
  qemuRssMiB,
  virshOut,
  walletSshLogin,
} from "../helpers/libvirt-host.ts";
import { checkLibvirtHost } from "../../src/provision/backends/libvirt-check.ts";

setDefaultTimeout(30 * 60_000); // TCG on a shared 2-core machine: a first boot took 12 min at load 25

const unavailable = libvirtUnavailable() ?? (anvilAvailable() ? undefined : "anvil (linux-x64) is not available");
if (unavailable) console.log(`skip: libvirt end-to-end test: ${unavailable}`);

describe.skipIf(Boolean(unavailable))(
  "a purchase becomes a libvirt VM the buyer logs into with a wallet signature",
  () => {
    let host: LibvirtEngineHost;
    let env: EngineEnv;
    let engine: EngineProcess;
    let daemons: { stop: () => void };
    let vm: VmJson;
    let details: { hostname: string; port: number; username: string };
    const bh = (args: string[], extra: Record<string, string> = {}) =>
      runBlockhost(args, { root: env.root, env: extra });
    const vmOf = (sub: number) => env.vmOf(sub);
    const key = (i: number) => privateKeyToAccount(env.anvil.accounts[i]!.privateKey);
    // Generous: each prompt runs the blockhost binary in the guest through PAM, emulated under TCG.
    const login = (signer: number, timeoutMs = 180_000) =>
      walletSshLogin(details.hostname, details.username, key(signer), timeoutMs);
    /** Retry until sshd answers and cloud-init has written the login config (the guest is booting). */
    const firstLogin = (signer: number) =>
      eventually(
        async () => {
          const r = await login(signer);
          return r.ok ? r : null;
        },
        "first SSH login",
        2000,
      );
    const at = (s: number) => ({ BLOCKHOST_NOW: String(s) });
    beforeAll(async () => {
      daemons = await ensureLibvirtd();
      host = await startLibvirtEngineHost({ guestAgentTimeoutS: 1500, engine: { stop_grace_ms: 300 } });
      env = host.env;
      const tpl = host.template;
      console.log(
        `template: ${tpl.builtNow ? `built in ${tpl.seconds.toFixed(1)} s` : "reused from the cache"}, ${(tpl.manifest.size_bytes / 2 ** 20).toFixed(0)} MiB qcow2, ${tpl.manifest.packages.length} requested packages`,
      );
      engine = env.startEngine();
    }, 45 * 60_000); // a fresh machine builds the template first (mmdebstrap)

    afterAll(async () => {
      await engine?.stop();
      await host?.stop();
      daemons?.stop();
    }, 120_000);

    test("setup's backend check sees libvirt, the accelerator, the network, the bridge and the template", async () => {
      const template = join(env.root, "var/lib/libvirt/blockhost/templates/blockhost-template.qcow2");
      const r = await checkLibvirtHost(host.agent.client, { bridge: TEST_BRIDGE, network: TEST_NETWORK, template });
      expect(r.lines.filter((l) => l.startsWith("problem:"))).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.lines.join("\n")).toMatch(/accelerator: (KVM|QEMU TCG)/);
      const missing = await checkLibvirtHost(host.agent.client, {
        bridge: "bhnone0",
        network: "no-such-net",
        template: `${template}.absent`,
      });
      expect(missing.ok).toBe(false);
      expect(missing.lines.filter((l) => l.startsWith("problem:"))).toHaveLength(3);
    });

    test("purchase → VM boots → NFT minted → the buyer decrypts the details, signs the code and runs id in the guest", async () => {
      const p = await env.buy(1, 1n);
      const mined = Date.now();
      vm = await env.servedVm(p.subscriptionId, "VM + NFT + GECOS", { gecos: true, everyMs: 1000 });
      expect(virshOut("domstate", vm.vm_name).out).toBe("running");
      details = JSON.parse(utf8(decryptWithSignature(p.signature, await env.nftPayload(vm.nft_token_id!))));
      expect(details).toEqual({ hostname: vm.ipv6_address!, port: 22, username: "admin" });
      const ok = await firstLogin(1);
      const loggedIn = Date.now();
      expect(ok.output).toBe("admin");
      expect(ok.prompt).toContain(`Machine: ${vm.vm_name}`);

      const t = p1Split(engine.events(), vm.vm_name, mined, loggedIn);
      const rss = qemuRssMiB(vm.vm_name);
      const f = (x: number) => x.toFixed(1);
      console.log(
        `P1 ${f(t.p1)} s (${t.accel}): chain wait ${f(t.chainWait)} s, create ${f(t.create)} s, ` +
          `boot to SSH login ${f(t.bootToLogin)} s; qemu RSS ${rss?.toFixed(0) ?? "?"} MiB`,
      );
      expect(t.accel).toBeDefined();
    });

    test("the VM's bridge port is isolated and its IPv6 host route points at the bridge", () => {
      const ifaces = virshOut("domiflist", vm.vm_name)
        .out.split("\n")
        .map((l) => l.trim().split(/\s+/)[0]!)
        .filter((d) => d.startsWith("vnet"));
      expect(ifaces).toHaveLength(1);
      const link = Bun.spawnSync(["/usr/sbin/bridge", "-d", "link", "show", "dev", ifaces[0]!]).stdout.toString();
      expect(link).toContain("isolated on");
      const route = Bun.spawnSync(["/usr/sbin/ip", "-6", "route", "show", `${vm.ipv6_address}/128`]).stdout.toString();
      expect(route).toContain(`dev ${TEST_BRIDGE}`);
    });

    test("a signature from another wallet is refused", async () => {
      const r = await login(7);
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/refused|authentication methods failed/);
      expect(r.prompt).toContain("Code:");
    });

    test("after the NFT is transferred the new holder logs in and the old one cannot", async () => {
      const newOwner = env.anvil.accounts[6]!.address;
      await env.transferNft(vm.nft_token_id!, 1, 6);
      await eventually(
        async () => {
          const v = await vmOf(vm.subscription_id!);
          return v?.gecos_synced && v.owner_wallet === newOwner;
        },
        "GECOS synced to the new owner",
        1000,
      );
      const fresh = await login(6);
      expect(fresh.ok).toBe(true);
      expect(fresh.output).toBe("admin");
      const old = await login(1);
      expect(old.ok).toBe(false);
      expect(old.error).toMatch(/refused|authentication methods failed/);
    });

    test("expiry: gc suspends the domain; an extension resumes it", async () => {
      const expiry = Math.floor(Date.parse((await vmOf(vm.subscription_id!))!.expires_at) / 1000);
      expect((await bh(["gc", "--execute"], at(expiry + 3600))).stdout).toContain(`suspended ${vm.vm_name}`);
      expect(virshOut("domstate", vm.vm_name).out).toBe("shut off");
      await env.extend(vm.subscription_id!, 30n, 6);
      await eventually(async () => (await vmOf(vm.subscription_id!))?.status === "active", "resumed", 1000);
      expect(virshOut("domstate", vm.vm_name).out).toBe("running");
    });

    test("past the grace period the VM is destroyed: domain, overlay, seed and route are gone", async () => {
      const expiry = Math.floor(Date.parse((await vmOf(vm.subscription_id!))!.expires_at) / 1000);
      const dir = join(env.root, "var/lib/libvirt/blockhost/vms", vm.vm_name);
      expect(existsSync(join(dir, "disk.qcow2")) && existsSync(join(dir, "seed.iso"))).toBe(true);
      expect((await bh(["gc", "--execute"], at(expiry + 3600))).stdout).toContain(`suspended ${vm.vm_name}`);
      expect((await bh(["gc", "--execute"], at(expiry + 8 * 86_400))).stdout).toContain(`destroyed ${vm.vm_name}`);
      expect((await vmOf(vm.subscription_id!))!.status).toBe("destroyed");
      expect(virshOut("domstate", vm.vm_name).code).not.toBe(0);
      expect(existsSync(dir)).toBe(false);
      expect(
        Bun.spawnSync(["/usr/sbin/ip", "-6", "route", "show", `${vm.ipv6_address}/128`])
          .stdout.toString()
          .trim(),
      ).toBe("");
    });
  },
);
