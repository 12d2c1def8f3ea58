/** A manual IPv6 prefix end to end in namespaces: finalize's ipv6 step, remote ⇄ host ⇄ VM, then destroy. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import type { AgentClient } from "../../../src/agent/client.ts";
import { dbConfigSchema } from "../../../src/core/config/schemas.ts";
import { parseHostPrefix, type PrefixAgent, restoreHostPrefix } from "../../../src/network/prefix-host.ts";
import { ProxmoxBackend } from "../../../src/provision/backends/proxmox.ts";
import type { VmRef } from "../../../src/provision/backends/types.ts";
import type { SetupContext } from "../../../src/setup/context.ts";
import { setupFileSchema } from "../../../src/setup/schema.ts";
import { ipv6 } from "../../../src/setup/steps/ipv6.ts";
import { actionRunner } from "../../helpers/action-context.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";
import { tempDir } from "../../helpers/binary.ts";
import {
  createPlainNetns,
  pings,
  settled,
  createTestNetns,
  linkNamespaces,
  netnsUnavailable,
  type PlainNetns,
  type TestNetns,
  vmBehindTap,
} from "../../helpers/netns.ts";
import { sampleSetupFile } from "../../helpers/setup-file.ts";
import { createQmSimulator, type QmSimulator } from "../../helpers/qm-simulator.ts";

/**
 * Three namespaces: "remote" is an upstream router that treats the whole prefix as on-link on its
 * eth0 (so it needs neighbour discovery answers from the host), "host" runs the agent actions
 * (vmbr0 with tap100i0, eth0 to remote), and "vm" holds the other end of tap100i0 with a /128 from
 * the prefix and prefix::1 as its gateway, the way cloud-init configures a VM.
 */
const PING = "/usr/bin/ping";
const skip = netnsUnavailable() ?? (existsSync(PING) ? undefined : `missing ${PING} (apt-get install iputils-ping)`);
if (skip) console.log(`skipping manual prefix namespace test: ${skip}`);

const IP = "/usr/sbin/ip";
const PREFIX = "2001:db8:1::/64";
const VM_ADDR = "2001:db8:1::10";
const REMOTE_ADDR = "2001:db8:ffff::1";

describe.skipIf(!!skip)("manual prefix: host side in namespaces", () => {
  let host: TestNetns;
  let vm: PlainNetns;
  let remote: PlainNetns;
  let agent: PrefixAgent;
  let root: ReturnType<typeof tempDir>;
  let qm: QmSimulator;
  let backend: ProxmoxBackend;
  const said: string[] = [];
  const savedRoot = process.env.BLOCKHOST_ROOT;
  const prefix = parseHostPrefix(PREFIX);
  const vm100: VmRef = { vmid: 100, name: "blockhost-100", ipv6: VM_ADDR };

  beforeAll(async () => {
    root = tempDir("bh-prefix-root-");
    process.env.BLOCKHOST_ROOT = root.dir;
    writeScopeConfig(root.dir, { ipv6Prefix: PREFIX });
    host = createTestNetns();
    vm = vmBehindTap(host);
    remote = createPlainNetns();
    linkNamespaces(host, "eth0", "2001:db8:ffff::2/64", remote, "eth0", `${REMOTE_ADDR}/64`);
    remote.exec(IP, "-6", "route", "add", PREFIX, "dev", "eth0");
    host.exec(IP, "-6", "route", "add", "default", "via", REMOTE_ADDR, "dev", "eth0");
    // What cloud-init's network-config gives the VM: its /128, prefix::1 on-link, default via it.
    vm.exec(IP, "-6", "addr", "add", `${VM_ADDR}/128`, "dev", "eth0");
    vm.exec(IP, "-6", "route", "add", `${prefix.bridgeAddress}/128`, "dev", "eth0");
    vm.exec(IP, "-6", "route", "add", "default", "via", prefix.bridgeAddress, "dev", "eth0");
    qm = createQmSimulator();
    qm.addVm({ vmid: 100, name: "blockhost-100", status: "running" });
    const act = actionRunner({ ...host.binaries, qm: qm.qmPath });
    agent = { call: (name: string, params: unknown) => act(name, params) } as unknown as PrefixAgent;
    // What db.yaml ipv6_pool.ndp_proxy_dev gives the backend.
    backend = new ProxmoxBackend(
      { bridge: "vmbr0", templateVmid: 9001, guestAgentTimeoutMs: 1000, ndpUplink: "eth0" },
      agent,
    );
  });
  afterAll(() => {
    qm?.cleanup();
    for (const ns of [vm, remote, host]) ns?.cleanup();
    root?.cleanup();
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = savedRoot;
  });

  test("before setup the VM cannot reach the remote network", async () => {
    expect(await pings(vm, REMOTE_ADDR, 1)).toBe(false);
  });

  test("finalize's ipv6 step: forwarding on and persisted, ::2 on lo, ::1 on the bridge, ::2 proxied", async () => {
    const ctx = setupContext(agent, { manual: PREFIX, uplink: "eth0", ndp_proxy: true });
    const result = await ipv6.run(ctx);
    expect(result).toMatchObject({ mode: "manual", prefix: PREFIX, bridge: "vmbr0", ndp_proxy_dev: "eth0" });
    // A resumed finalization runs the step again: nothing changes, nothing fails.
    expect(await ipv6.run(ctx)).toEqual(result);
    expect(JSON.parse(readFileSync(`${root.dir}/etc/blockhost/broker-allocation.json`, "utf8"))).toEqual({
      prefix: PREFIX,
      mode: "manual",
    });
    expect(readFileSync(`${root.dir}/etc/blockhost/network-mode`, "utf8")).toBe("manual\n");
    const conf = readFileSync(`${root.dir}/etc/sysctl.d/99-blockhost-ipv6.conf`, "utf8");
    expect(conf).toContain("net.ipv6.conf.all.forwarding = 1\n");
    expect(conf).toContain("net/ipv6/conf/eth0/proxy_ndp = 1\n");
    expect(host.exec("/usr/sbin/sysctl", "-n", "net.ipv6.conf.all.forwarding").trim()).toBe("1");
    expect(host.exec("/usr/sbin/sysctl", "-n", "net.ipv6.conf.eth0.proxy_ndp").trim()).toBe("1");
    expect(host.exec(IP, "-6", "addr", "show", "dev", "lo")).toContain("inet6 2001:db8:1::2/128");
    expect(host.exec(IP, "-6", "addr", "show", "dev", "vmbr0")).toContain("inet6 2001:db8:1::1/128");
    expect(host.exec(IP, "-6", "neigh", "show", "proxy")).toContain("2001:db8:1::2 dev eth0");
    await settled(host, vm, remote);
    expect(await pings(remote, prefix.hostAddress)).toBe(true);
  }, 30_000);

  test("after a reboot (addresses and proxy entry gone) the engine's restore puts the host side back", async () => {
    host.exec(IP, "-6", "addr", "del", `${prefix.hostAddress}/128`, "dev", "lo");
    host.exec(IP, "-6", "addr", "del", `${prefix.bridgeAddress}/128`, "dev", "vmbr0");
    host.exec(IP, "-6", "neigh", "del", "proxy", prefix.hostAddress, "dev", "eth0");
    expect(await pings(remote, prefix.hostAddress, 1)).toBe(false);
    const db = dbConfigSchema.parse(
      {
        bridge: "vmbr0",
        ip_pool: { network: "10.0.0.0/24", start: 10, end: 20, gateway: "10.0.0.1" },
        ipv6_pool: { prefix: PREFIX, ndp_proxy_dev: "eth0" },
      },
      "db.yaml",
    );
    expect(await restoreHostPrefix(agent, db)).toBe(
      "2001:db8:1::/64: 2001:db8:1::1 on vmbr0, 2001:db8:1::2 on lo, proxied on eth0",
    );
    expect(host.exec(IP, "-6", "addr", "show", "dev", "vmbr0")).toContain("inet6 2001:db8:1::1/128");
    expect(host.exec(IP, "-6", "neigh", "show", "proxy")).toContain("2001:db8:1::2 dev eth0");
    expect(await pings(remote, prefix.hostAddress)).toBe(true);
    expect(await restoreHostPrefix(agent, { ...db, bridge: "eth7" })).toContain("not one the agent routes to");
  }, 30_000);

  test("a VM's /128 (the backend exposing it) reaches the remote network and is reached from it", async () => {
    await backend.restoreNetwork(vm100);
    expect(host.exec(IP, "-6", "route", "show")).toMatch(/^2001:db8:1::10 dev vmbr0/m);
    expect(host.exec(IP, "-6", "neigh", "show", "proxy")).toContain("2001:db8:1::10 dev eth0");
    expect(await pings(vm, REMOTE_ADDR)).toBe(true);
    expect(await pings(remote, VM_ADDR)).toBe(true);
  }, 30_000);

  test("after destroy the address is gone: no route, no proxy entry, unreachable", async () => {
    await backend.destroy(vm100, (m) => said.push(m));
    expect(qm.vm(100)).toBeUndefined();
    expect(host.exec(IP, "-6", "route", "show")).not.toContain("2001:db8:1::10 ");
    expect(host.exec(IP, "-6", "neigh", "show", "proxy")).not.toContain("2001:db8:1::10");
    expect(await pings(remote, VM_ADDR, 1)).toBe(false);
    expect(await pings(vm, REMOTE_ADDR, 1)).toBe(false);
    // A second destroy (a retried job) finds nothing to remove and does not fail.
    await backend.destroy(vm100, (m) => said.push(m));
  }, 30_000);

  test("an uplink that does not exist is refused before anything is written", async () => {
    await expect(agent.call("ipv6-forwarding-persist", { uplink: "eth9", ndpProxy: true })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
    });
    expect(readFileSync(`${root.dir}/etc/sysctl.d/99-blockhost-ipv6.conf`, "utf8")).toContain("eth0");
  });
});

/** The step's context: the setup file with a Proxmox backend on vmbr0; the step uses only the file and the agent. */
function setupContext(agent: PrefixAgent, v6: { manual: string; uplink: string; ndp_proxy: boolean }): SetupContext {
  const file = sampleSetupFile();
  file.network.ipv6 = v6;
  file.backend = { proxmox: { node: "pve", storage: "local-lvm", bridge: "vmbr0" } };
  return {
    file: setupFileSchema.parse(file, ""),
    fileName: "setup.yaml",
    agent: agent as AgentClient,
  } as SetupContext;
}
