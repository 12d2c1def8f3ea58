/** Agent actions end to end through the compiled agent. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { createTestNetns, netnsUnavailable, type TestNetns } from "../../helpers/netns.ts";
import { createQmSimulator, type QmSimulator } from "../../helpers/qm-simulator.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

/**
 * The action catalog through the compiled `blockhost agent` on a temp socket: agent.yaml points
 * qm at the simulator and ip/iptables/bridge at wrappers that act inside a test namespace.
 */
const skip =
  process.getuid?.() !== 0 ? "needs root (agent.yaml must be root-owned; network namespaces)" : netnsUnavailable();
if (skip) console.log(`skipping agent end-to-end action tests: ${skip}`);

describe.skipIf(!!skip)("actions through the compiled agent", () => {
  let sim: QmSimulator;
  let ns: TestNetns;
  let agent: RunningAgent;
  beforeAll(async () => {
    sim = createQmSimulator();
    ns = createTestNetns();
    agent = await startAgent({ binaries: { qm: sim.qmPath, ...ns.binaries } as Record<string, string> });
    writeScopeConfig(agent.root, { templateVmid: 9000, ipv6Prefix: "2001:db8::/64", knockPorts: [2200] });
  });
  afterAll(async () => {
    await agent?.stop();
    ns?.cleanup();
    sim?.cleanup();
  });

  test("qm-clone, qm-set, qm-start and qm-status drive the simulator", async () => {
    sim.addVm({
      vmid: 9000,
      name: "tmpl",
      template: true,
      config: { scsi0: "local-lvm:base-9000-disk-0,size=10G", agent: "1" },
    });
    await agent.client.call("qm-clone", { vmid: 9000, newid: 150, name: "e2e-1" });
    await agent.client.call("qm-set", {
      vmid: 150,
      options: { memory: 1024, cicustom: "user=local:snippets/blockhost-e2e-1.yaml" },
    });
    await agent.client.call("qm-start", { vmid: 150 });
    expect(await agent.client.call("qm-status", { vmid: 150 })).toEqual({ ok: true, status: "running" });
    expect(sim.vm(150)).toMatchObject({ name: "e2e-1", status: "running", config: { memory: "1024" } });
  });

  test("bad params and failing commands come back as coded errors", async () => {
    await expect(agent.client.call("qm-start", { vmid: 99 })).rejects.toMatchObject({
      code: "E_AGENT_INVALID_PARAMS",
      message: expect.stringContaining("params.vmid"),
    });
    await expect(
      agent.client.call("qm-set", { vmid: 150, options: { hookscript: "local:snippets/x.sh" } } as never),
    ).rejects.toMatchObject({ code: "E_AGENT_INVALID_PARAMS" });
    await expect(agent.client.call("qm-start", { vmid: 150 })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
      message: "qm exited 255: VM 150 already running",
    });
    sim.failNext("clone");
    await expect(agent.client.call("qm-clone", { vmid: 9000, newid: 151, name: "e2e-2" })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
    });
  });

  test("ip6-route-add and iptables-open change the namespace", async () => {
    await agent.client.call("ip6-route-add", { address: "2001:db8::150/128", dev: "vmbr0" });
    expect(ns.exec("/usr/sbin/ip", "-6", "route", "show")).toMatch(/^2001:db8::150 dev vmbr0/m);
    expect(
      await agent.client.call("iptables-open", {
        port: 2200,
        proto: "tcp",
        comment: "e2e-knock",
        source: "198.51.100.0/24",
      }),
    ).toEqual({ ok: true, added: true });
    expect(ns.exec("/usr/sbin/iptables", "-S", "INPUT")).toContain(
      "-A INPUT -s 198.51.100.0/24 -p tcp -m tcp --dport 2200 -m comment --comment e2e-knock -j ACCEPT",
    );
    expect(
      await agent.client.call("iptables-close", {
        port: 2200,
        proto: "tcp",
        comment: "e2e-knock",
        source: "198.51.100.0/24",
      }),
    ).toEqual({ ok: true, removed: true });
    await agent.client.call("ip6-route-del", { address: "2001:db8::150/128", dev: "vmbr0" });
    expect(ns.exec("/usr/sbin/ip", "-6", "route", "show")).not.toContain("2001:db8::150");
  });

  test("generate-wallet never puts the key in a response or the audit log", async () => {
    const r = await agent.client.call("generate-wallet", { name: "e2e-hot" });
    const key = readFileSync(join(agent.root, "etc/blockhost/e2e-hot.key"), "utf8");
    expect(JSON.stringify(r)).not.toContain(key);
    const audit = agent.logLines().filter((l) => l.action === "generate-wallet");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: "ok", uid: 0 });
    expect(JSON.stringify(agent.logLines())).not.toContain(key);
  });

  test("config-write works during setup and is refused after it", async () => {
    await agent.client.call("config-write", { file: "network-mode", content: "broker\n" });
    expect(readFileSync(join(agent.root, "etc/blockhost/network-mode"), "utf8")).toBe("broker\n");
    mkdirSync(join(agent.root, "var/lib/blockhost"), { recursive: true });
    writeFileSync(join(agent.root, "var/lib/blockhost/.setup-complete"), "");
    await expect(
      agent.client.call("config-write", { file: "network-mode", content: "manual\n" }),
    ).rejects.toMatchObject({ code: "E_SETUP_COMPLETE" });
    expect(readFileSync(join(agent.root, "etc/blockhost/network-mode"), "utf8")).toBe("broker\n");
  });
});
