// After setup a compromised `blockhost` account (its real uid, via setpriv) cannot widen the agent's
// scope by rewriting the files it is read from: admin-commands.json (knock ports) and
// broker-allocation.json (broker peer, routed prefix). Renewals and root's changes still work.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import type { AdminCommand } from "../../../src/core/config/admin-commands.ts";
import { rootSaveCommand } from "../../../src/web/public/admin/commands.tsx";
import { blockhostBinary, tempDir } from "../../helpers/binary.ts";
import { hostileService, type HostileService } from "../../helpers/hostile-service.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

const skip = process.getuid?.() !== 0 ? "needs root (a second uid)" : !Bun.which("setpriv") ? "needs setpriv" : "";
if (skip) console.log(`skipping after-setup scope tests: ${skip}`);

const BROKER = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const FORGED = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
const allocation = (over: Record<string, unknown> = {}) => ({
  mode: "broker",
  prefix: "2001:db8:7::/120",
  gateway: "2001:db8:7::1",
  broker_pubkey: BROKER,
  broker_endpoint: "192.0.2.7:51820",
  nft_contract: `0x${"1".repeat(40)}`,
  request_id: 1,
  wg_public_key: "mH2bC0XRuaJu1Kb4a6mU1qHnBmlwkFJ8VmeWkFTbKXk=",
  allocated_at: "2026-12-01T00:00:00Z",
  broker_wallet: `0x${"2".repeat(40)}`,
  requests_contract: `0x${"3".repeat(40)}`,
  broker_id: 1,
  broker_encryption_pubkey: `0x04${"ab".repeat(64)}`,
  ...over,
});
const knock = (ports: number[], name = "scope-test-knock") => ({
  commands: { [name]: { action: "knock" as const, params: { allowed_ports: ports } } },
});

describe.skipIf(!!skip)("after setup, the service account cannot widen the agent's scope", () => {
  const tmp = tempDir("blockhost-after-setup-");
  const root = tmp.dir;
  const etc = join(root, "etc/blockhost");
  let agent: RunningAgent;
  let service: HostileService;
  const asService = async (action: string, params: Record<string, unknown>) =>
    (await service.call(agent.socket, [{ action, params }]))[0]!;
  const refusals = (action: string) =>
    agent.logLines().filter((l) => l.event === "agent.out_of_scope" && l.action === action && l.uid === service.uid);

  beforeAll(async () => {
    chmodSync(root, 0o755);
    service = hostileService(join(root, "attacker-bin"));
    writeScopeConfig(root, { knockPorts: [22] });
    agent = await startAgent({ root });
    chmodSync(join(root, "run/blockhost"), 0o755);
    // Setup, as the wizard does it under the service account: save the allocation, then close setup.
    expect(await asService("broker-allocation-write", { allocation: allocation() })).toMatchObject({ ok: true });
    expect(await asService("setup-complete", {})).toMatchObject({ ok: true });
  });
  afterAll(async () => {
    await agent?.stop();
    tmp.cleanup();
  });

  test("adding a knock port is refused with a code and an audit line; the port stays closed to the knock", async () => {
    const before = readFileSync(join(etc, "admin-commands.json"), "utf8");
    expect(await asService("admin-commands-save", knock([22, 2222]))).toMatchObject({
      ok: false,
      code: "E_AGENT_OUT_OF_SCOPE",
    });
    expect(readFileSync(join(etc, "admin-commands.json"), "utf8")).toBe(before);
    expect(refusals("admin-commands-save")).toEqual([
      expect.objectContaining({ kind: "port", value: "2222", pid: expect.any(Number) }),
    ]);
    // So the scope it would have bought is still closed.
    expect(
      await asService("iptables-open", { source: "198.51.100.7", port: 2222, proto: "tcp", comment: "knock-test" }),
    ).toMatchObject({ ok: false, code: "E_AGENT_OUT_OF_SCOPE" });
  });

  test("the service may still rename or drop commands within the saved ports; root adds a port with the panel's command", async () => {
    expect(await asService("admin-commands-save", knock([22], "renamed-knock"))).toMatchObject({
      ok: true,
      commands: 1,
    });
    expect(JSON.parse(readFileSync(join(etc, "admin-commands.json"), "utf8"))).toEqual(knock([22], "renamed-knock"));
    // What the admin panel tells the operator to run, run as root through a shell (a quote in a description).
    const wanted = knock([22, 2222], "renamed-knock");
    (wanted.commands["renamed-knock"] as Record<string, unknown>).description = "it's the deploy port";
    const command = rootSaveCommand(wanted.commands as Record<string, AdminCommand>);
    const sh = Bun.spawnSync(["sh", "-c", command.replace(/^blockhost /, `'${blockhostBinary()}' `)], {
      env: { PATH: "/usr/bin:/bin", BLOCKHOST_ROOT: root },
      stderr: "pipe",
    });
    expect(sh.stderr.toString()).toBe("");
    expect(JSON.parse(readFileSync(join(etc, "admin-commands.json"), "utf8"))).toEqual(wanted);
    expect(await asService("admin-commands-save", knock([2222]))).toMatchObject({ ok: true });
  });

  test("a new broker peer or prefix is refused with a code and an audit line; wg-broker-up to it too", async () => {
    const file = join(etc, "broker-allocation.json");
    const before = readFileSync(file, "utf8");
    const forged = [
      { broker_pubkey: FORGED },
      { broker_endpoint: "203.0.113.66:51820" },
      { prefix: "2001:db8:66::/120", gateway: "2001:db8:66::1" },
    ];
    for (const over of forged)
      expect(await asService("broker-allocation-write", { allocation: allocation(over) })).toMatchObject({
        ok: false,
        code: "E_AGENT_OUT_OF_SCOPE",
      });
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(refusals("broker-allocation-write").map((l) => l.kind)).toEqual([
      "broker-peer",
      "broker-peer",
      "broker-peer",
    ]);
    expect(
      await asService("wg-broker-up", { peer_public_key: FORGED, endpoint: "203.0.113.66:51820", keepalive: 25 }),
    ).toMatchObject({ ok: false, code: "E_AGENT_OUT_OF_SCOPE" });
    expect(await asService("ip6-route-add", { address: "2001:db8:66::5/128", dev: "vmbr0" })).toMatchObject({
      ok: false,
      code: "E_AGENT_OUT_OF_SCOPE",
    });
  });

  test("a renewal (same peer and prefix, new key and request) is saved; after a release only root saves a new one", async () => {
    const renewal = allocation({
      request_id: 2,
      wg_public_key: "YGHJl/Y5mfsLqKPHXyBXtUqwWk2PlmuTC2kYu8s70jY=",
      allocated_at: "2026-12-08T00:00:00Z",
    });
    expect(await asService("broker-allocation-write", { allocation: renewal })).toMatchObject({ ok: true });
    expect(JSON.parse(readFileSync(join(etc, "broker-allocation.json"), "utf8"))).toEqual(renewal);
    expect(await asService("broker-allocation-delete", {})).toMatchObject({ ok: true, removed: true });
    expect(
      await asService("broker-allocation-write", { allocation: allocation({ broker_pubkey: FORGED }) }),
    ).toMatchObject({ ok: false, code: "E_AGENT_OUT_OF_SCOPE" });
    expect(await asService("broker-allocation-write", { allocation: renewal })).toMatchObject({
      ok: false,
      code: "E_AGENT_OUT_OF_SCOPE",
    });
    expect(
      await agent.client.call("broker-allocation-write", { allocation: allocation({ broker_pubkey: FORGED }) }),
    ).toMatchObject({ file: join(etc, "broker-allocation.json") });
  });
});
