/** `blockhost broker` (binary, real agent) and finalize's ipv6 step in broker mode, against the broker SIMULATOR. */
import type { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { type Hex, http } from "viem";
import type { AgentClient } from "../../../src/agent/client.ts";
import { brokerRegistryAbi, brokerRegistryBytecode } from "../../../src/chain/contracts/generated/BrokerRegistry.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import { markStepDone, markStepRunning } from "../../../src/core/state/setup.ts";
import type { SetupContext } from "../../../src/setup/context.ts";
import { ipv6 } from "../../../src/setup/steps/ipv6.ts";
import { type BrokerSimulator, startBrokerSimulator } from "../../fixtures/broker-sim.ts";
import { type RunningAgent, startAgent } from "../../helpers/agent.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { deploy, send } from "../../helpers/contracts.ts";
import { EngineEnv } from "../../helpers/engine-env.ts";
import {
  createPlainNetns,
  linkNamespaces,
  netnsUnavailable,
  netnsWrapper,
  type PlainNetns,
  WG,
  WIREGUARD_GO,
  wireguardUnavailable,
} from "../../helpers/netns.ts";

setDefaultTimeout(90_000);
const IP = "/usr/sbin/ip";
const skip = netnsUnavailable() ?? (anvilAvailable() ? undefined : "anvil is not available") ?? wireguardUnavailable();
if (skip) console.log(`skipping broker CLI test: ${skip}`);

describe.skipIf(!!skip)("blockhost broker and finalize's broker mode (binary, agent, simulator)", () => {
  let env: EngineEnv;
  let host: PlainNetns;
  let brokerNs: PlainNetns;
  let sim: BrokerSimulator;
  let agent: RunningAgent;
  let registry: Hex;
  let prefix: string;
  const broker = (...args: string[]) => runBlockhost(["broker", ...args], { root: env.root });
  const savedRoot = process.env.BLOCKHOST_ROOT;
  /** What finalize's ipv6 step uses of its context: the setup file's mode, the database, the agent and the chain. */
  const stepContext = (db: Database) =>
    ({
      file: {
        network: { ipv6: { broker: { registry, timeout_s: 60 } } },
        backend: "dry-run",
        chain: { confirmations: 0 },
      },
      fileName: "setup.yaml",
      db,
      agent: agent.client as AgentClient,
      access: {
        chain: env.net.pub.chain,
        rpcUrls: [env.anvil.rpcUrl],
        transport: http(env.anvil.rpcUrl),
        publicClient: env.net.pub,
      },
    }) as unknown as SetupContext;

  beforeAll(async () => {
    env = await EngineEnv.create();
    // The finalize step runs in this process: its paths (database, keys, allocation) are the test root's.
    process.env.BLOCKHOST_ROOT = env.root;
    host = createPlainNetns();
    brokerNs = createPlainNetns();
    linkNamespaces(host, "eth0", "10.78.0.1/24", brokerNs, "eth0", "10.78.0.2/24");
    sim = await startBrokerSimulator({
      net: env.net,
      operator: 2,
      netns: brokerNs.name,
      endpointAddress: "10.78.0.2",
      tmpDir: env.root,
    });
    registry = await deploy(env.net, 1, brokerRegistryAbi, brokerRegistryBytecode);
    await send(env.net, 1, {
      address: registry,
      abi: brokerRegistryAbi,
      functionName: "registerBroker",
      args: [env.net.addresses[2], sim.requestsContract, sim.encryptionPubkey, "test"],
    });
    const inHost = (p: string) => netnsWrapper(env.root, host.name, p);
    agent = await startAgent({
      root: env.root,
      binaries: { ip: inHost(IP), wg: inHost(WG), "wireguard-go": inHost(WIREGUARD_GO) },
    });
  });
  afterAll(async () => {
    sim?.stop();
    if (host) Bun.spawnSync([IP, "netns", "exec", host.name, IP, "link", "del", "wg-broker"]);
    await agent?.stop();
    for (const ns of [host, brokerNs]) ns?.cleanup();
    await env?.stop();
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = savedRoot;
  });

  test("status before any request; usage errors exit 2 naming the option", async () => {
    const none = await broker("status");
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("no broker allocation\n");
    const bad = await broker("request", "--registry", "0x12");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--registry: expected a 0x-prefixed 20-byte hex address");
    const renew = await broker("renew");
    expect(renew.code).toBe(1);
    expect(renew.stderr).toContain("no broker allocation to renew");
  });

  test("request: the prefix printed, the tunnel up, status shows both", async () => {
    const r = await broker("request", "--registry", registry, "--timeout", "60");
    expect(r.code).toBe(0);
    prefix = /^prefix: +(\S+)$/m.exec(r.stdout)?.[1] ?? "";
    expect(prefix).toMatch(/^2001:db8:b0::[0-9a-f]+00\/120$/);
    expect(host.exec(WG, "show", "wg-broker", "peers").trim()).not.toBe("");
    const s = await broker("status");
    expect(s.stdout).toContain(`prefix:    ${prefix}`);
    expect(s.stdout).toContain("tunnel:    wg-broker up");
    expect(s.stdout).toMatch(/on chain: +latest request #1\n/);
    await Bun.write(join(env.root, "etc/blockhost/network-mode"), "broker\n");
    const all = await runBlockhost(["status"], { root: env.root });
    expect(all.stdout).toContain(`ipv6:     broker ${prefix} through wg-broker to 10.78.0.2:51820`);
  });

  test("renew keeps the prefix and moves the on-chain request", async () => {
    const r = await broker("renew", "--timeout", "60");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`prefix:    ${prefix}`);
    expect(r.stdout).toContain("request:   #2");
  });

  test("finalize's ipv6 step in broker mode reuses a saved allocation for this NFT contract", async () => {
    const db = openDatabase();
    markStepRunning(db, "contracts");
    markStepDone(db, "contracts", { nft: env.nft, subscriptions: env.subs });
    const ctx = stepContext(db);
    try {
      const result = await ipv6.run(ctx);
      expect(result).toMatchObject({ mode: "broker", prefix, request_id: 2 });
      expect(sim.answered.size).toBe(2);
    } finally {
      db.close();
    }
  });

  test("release takes the tunnel down and forgets the allocation", async () => {
    const r = await broker("release");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("tunnel removed; allocation deleted\n");
    expect(host.exec(IP, "link", "show")).not.toContain("wg-broker");
    expect((await broker("status")).stdout).toBe("no broker allocation\n");
  });

  test("finalize's ipv6 step in broker mode with no allocation asks the registry's broker", async () => {
    const db = openDatabase();
    try {
      const ctx = stepContext(db);
      const result = await ipv6.run(ctx);
      expect(result).toMatchObject({ mode: "broker", prefix, request_id: 3 });
      expect(host.exec(WG, "show", "wg-broker", "peers").trim()).not.toBe("");
    } finally {
      db.close();
    }
  });
});
