// End to end on real libvirt + qemu: a purchase on anvil becomes a VM the buyer logs into over SSH by signing with their wallet.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { decryptWithSignature, utf8 } from "../../src/crypto/symmetric.ts";
import { anvilAvailable } from "../helpers/anvil.ts";
import { runBlockhost } from "../helpers/binary.ts";
import { type EngineEnv, eventually, type EngineProcess, type VmJson } from "../helpers/engine-env.ts";
import { type LibvirtEngineHost, TEST_VM_NAME, startLibvirtEngineHost } from "../helpers/libvirt-engine.ts";
import {
  TEST_BRIDGE,
  TEST_DNS_A,
  TEST_DNS_AAAA,
  TEST_DNS_NAME,
  TEST_NETWORK,
  ensureLibvirtd,
  readTemplateFiles,
  startTestResolver,
  libvirtUnavailable,
  p1Split,
  qemuRssMiB,
  virshOut,
  walletSshLogin,
} from "../helpers/libvirt-host.ts";
import { checkLibvirtHost } from "../../src/provision/backends/libvirt-check.ts";
import { vmPortName } from "../../src/agent/port-guard/rules.ts";

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
    let resolver: ReturnType<typeof startTestResolver>;
    let hostKeysFirstBoot: string;
    /** A shell line run in a guest through its guest agent (as root). */
    const guestSh = async (name: string, script: string) => {
      const r = await host.agent.client.call("virsh-guest-exec", {
        name,
        command: ["/bin/sh", "-c", script],
        timeout: 300,
      });
      return { code: Number(r.exitcode), out: String(r.stdout ?? ""), err: String(r.stderr ?? "") };
    };
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
      // The guests resolve against the test's own resolver on the bridge (both gateway addresses).
      host = await startLibvirtEngineHost({
        guestAgentTimeoutS: 1500,
        engine: { stop_grace_ms: 300 },
        nameservers: ["10.215.0.1", "fd42:b10c::1"],
        oses: ["debian-13"],
      });
      resolver = startTestResolver();
      env = host.env;
      const tpl = host.template;
      console.log(
        `template: ${tpl.builtNow ? `built in ${tpl.seconds.toFixed(1)} s` : "reused from the cache"}, ${(tpl.manifest.size_bytes / 2 ** 20).toFixed(0)} MiB qcow2, ${tpl.manifest.packages.length} requested packages`,
      );
      engine = env.startEngine();
    }, 45 * 60_000); // a fresh machine builds the template first (mmdebstrap)

    afterAll(async () => {
      await engine?.stop();
      resolver?.stop();
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

    test("the templates (Debian 12 and 13) ship none of the build host's files and no cloud-init", () => {
      const hostname = osHostname();
      const hostResolv = ["/etc/resolv.conf", "/run/systemd/resolve/resolv.conf"]
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f, "utf8"))
        .join("\n");
      const hostServers = [...hostResolv.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]!);
      for (const tpl of [host.template, host.templates["debian-13"]!]) {
        const f = readTemplateFiles(tpl.image, ["/etc/resolv.conf", "/etc/hostname", "/etc/hosts", "/etc/machine-id"]);
        expect(f["/etc/resolv.conf"]).not.toMatch(/^nameserver/m);
        for (const ns of hostServers) expect(f["/etc/resolv.conf"]).not.toContain(ns);
        expect(f["/etc/hostname"]?.trim()).toBe("localhost");
        expect(f["/etc/hosts"]).not.toContain(hostname);
        expect(f["/etc/machine-id"]).toBe("");
        expect(f["ls /etc/apt/apt.conf.d"]).not.toMatch(/proxy|99mmdebstrap/i);
        expect(f["ls /etc/ssh"]).not.toContain("ssh_host_");
        expect(f["ls /usr/lib/python3"]).toBeNull();
      }
      expect(host.template.manifest.os).toBe("debian-12");
      expect(host.templates["debian-13"]!.manifest.os).toBe("debian-13");
      expect(host.templates["debian-13"]!.manifest.debian_suite).toBe("trixie");
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
      expect(ok.prompt).toMatch(/Machine: vm-[a-z2-9]{16}/); // the per-VM identity from the seed

      const t = p1Split(engine.events(), vm.vm_name, mined, loggedIn);
      const rss = qemuRssMiB(vm.vm_name);
      const f = (x: number) => x.toFixed(1);
      console.log(
        `P1 ${f(t.p1)} s (${t.accel}): chain wait ${f(t.chainWait)} s, create ${f(t.create)} s, ` +
          `boot to SSH login ${f(t.bootToLogin)} s; qemu RSS ${rss?.toFixed(0) ?? "?"} MiB`,
      );
      expect(t.accel).toBeDefined();
    });

    test("cloud-init status (the first boot's stand-in) reports done; the resolvers are the host's configured ones", async () => {
      const st = await guestSh(vm.vm_name, "cloud-init status --wait --long");
      expect(st.code).toBe(0);
      expect(st.out).toContain("status: done");
      expect((await guestSh(vm.vm_name, "cat /etc/resolv.conf")).out).toMatch(
        /^nameserver 10\.215\.0\.1\nnameserver fd42:b10c::1$/m,
      );
      hostKeysFirstBoot = (await guestSh(vm.vm_name, "cat /etc/ssh/ssh_host_ed25519_key.pub")).out;
      expect(hostKeysFirstBoot).toStartWith("ssh-ed25519 ");
    });

    test("DNS: the guest resolves a name against the test's resolver over IPv4 and over IPv6", async () => {
      const both = await guestSh(vm.vm_name, `getent ahosts ${TEST_DNS_NAME}`);
      expect(both.out).toContain(TEST_DNS_A);
      expect(both.out).toContain(TEST_DNS_AAAA);
      // One family at a time: the guest's own resolv.conf with only that family's nameserver line; the
      // resolver's log shows the query arriving from the guest's address of that family.
      const name = TEST_DNS_NAME.replaceAll(".", "\\.");
      for (const [keep, drop, from] of [
        ["10.215.0.1", "fd42:b10c::1", vm.ip_address!],
        ["fd42:b10c::1", "10.215.0.1", vm.ipv6_address!],
      ] as const) {
        const before = resolver.log().length;
        const r = await guestSh(
          vm.vm_name,
          `grep -v 'nameserver ${drop}$' /etc/resolv.conf > /run/resolv-one && ` +
            `unshare -m sh -c 'mount --bind /run/resolv-one /etc/resolv.conf && getent ahostsv4 ${TEST_DNS_NAME}'`,
        );
        expect(r.out).toContain(TEST_DNS_A);
        await eventually(
          async () => new RegExp(`query\\[A\\] ${name} from ${from}\n`).test(resolver.log().slice(before)) || null,
          `the query over ${keep} in the resolver's log`,
          200,
        );
      }
    });

    test("the VM's bridge port is isolated, guarded by its binding, and its IPv6 host route points at the bridge", () => {
      const ifaces = virshOut("domiflist", vm.vm_name)
        .out.split("\n")
        .map((l) => l.trim().split(/\s+/)[0]!)
        .filter((d) => d.startsWith("bhv") || d.startsWith("vnet"));
      // The port carries the name the guard's rules are keyed on (not a reusable vnetN).
      expect(ifaces).toEqual([vmPortName(vm.vm_name)]);
      const guard = Bun.spawnSync(["/usr/sbin/nft", "list", "table", "bridge", "blockhost_guard"]).stdout.toString();
      expect(guard).toContain(ifaces[0]!);
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

    test("a reboot of the same instance does not configure it again (same SSH host key, network back)", async () => {
      await eventually(
        async () =>
          (await guestSh(vm.vm_name, "cloud-init status --wait")).out.includes("status: done") ? true : null,
        "the resumed guest's first-boot step",
        2000,
      ).catch(() => undefined);
      const st = await eventually(
        async () => {
          const r = await guestSh(vm.vm_name, "cat /run/blockhost-guest/status").catch(() => null);
          return r?.out.startsWith("done") ? r : null;
        },
        "the resumed guest's status",
        2000,
      );
      expect(st.out).toContain("configured on an earlier boot");
      expect((await guestSh(vm.vm_name, "cat /etc/ssh/ssh_host_ed25519_key.pub")).out).toBe(hostKeysFirstBoot);
      // The network the first boot configured comes back by itself (the NIC keeps its name): a login works.
      const again = await eventually(
        async () => {
          const r = await login(6);
          return r.ok ? r : null;
        },
        "a wallet login after the reboot",
        2000,
      );
      expect(again.output).toBe("admin");
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

    test("a Debian 13 VM (vm create --os debian-13): its owner logs in with a wallet signature", async () => {
      const owner = env.anvil.accounts[2]!.address;
      const r = await bh([
        "vm",
        "create",
        TEST_VM_NAME,
        "--owner-wallet",
        owner,
        "--os",
        "debian-13",
        "--apply",
        "--json",
      ]);
      expect(r.code).toBe(0);
      const address = JSON.parse(r.stdout).plan.ipv6_address as string;
      const ok = await eventually(
        async () => {
          const l = await walletSshLogin(address, "admin", key(2), 180_000);
          return l.ok ? l : null;
        },
        "first SSH login to the Debian 13 VM",
        2000,
      );
      expect(ok.output).toBe("admin");
      expect(ok.prompt).toMatch(/Machine: vm-[a-z2-9]{16}/);
      expect((await guestSh(TEST_VM_NAME, "cat /etc/debian_version")).out).toMatch(/^13\./);
      expect((await guestSh(TEST_VM_NAME, "cloud-init status")).out).toContain("status: done");
      expect((await guestSh(TEST_VM_NAME, `getent ahostsv4 ${TEST_DNS_NAME}`)).out).toContain(TEST_DNS_A);
      expect(virshOut("dumpxml", TEST_VM_NAME).out).toContain("blockhost-template-debian-13.qcow2");
      expect((await bh(["vm", "destroy", TEST_VM_NAME])).code).toBe(0);
    });
  },
);
