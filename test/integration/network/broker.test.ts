/** The broker client against the broker SIMULATOR on anvil: request, wg-broker carrying a VM's IPv6, renew, release. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { ChainAccess } from "../../../src/chain/client.ts";
import {
  accessCredentialNftAbi,
  accessCredentialNftBytecode,
} from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { brokerRegistryAbi, brokerRegistryBytecode } from "../../../src/chain/contracts/generated/BrokerRegistry.ts";
import { generatePrivateKey } from "../../../src/crypto/keys.ts";
import { readBrokerAllocation } from "../../../src/core/config/broker-allocation.ts";
import {
  type BrokerClientOptions,
  brokerOf,
  pickBroker,
  releaseAllocation,
  requestAllocation,
} from "../../../src/network/broker/client.ts";
import {
  exposeVmAddress,
  parseHostPrefix,
  type PrefixAgent,
  setupPrefixHost,
} from "../../../src/network/prefix-host.ts";
import { bigIntToIpv6, ipv6ToBigInt } from "../../../src/core/ipv6.ts";
import { type BrokerSimulator, startBrokerSimulator } from "../../fixtures/broker-sim.ts";
import { actionRunner } from "../../helpers/action-context.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";
import { type Anvil, anvilAvailable, startAnvil } from "../../helpers/anvil.ts";
import { tempDir } from "../../helpers/binary.ts";
import { type Devnet, deploy, devnet, send } from "../../helpers/contracts.ts";
import {
  createPlainNetns,
  createTestNetns,
  vmBehindTap,
  netnsUnavailable,
  netnsWrapper,
  type PlainNetns,
  pings,
  settled,
  type TestNetns,
  linkNamespaces,
  WG,
  WIREGUARD_GO,
  wireguardUnavailable,
} from "../../helpers/netns.ts";

setDefaultTimeout(60_000);
const IP = "/usr/sbin/ip";
const skip =
  netnsUnavailable() ??
  (anvilAvailable() ? undefined : "anvil is not available") ??
  wireguardUnavailable() ??
  (existsSync("/usr/bin/ping") ? undefined : "missing /usr/bin/ping (apt-get install iputils-ping)");
if (skip) console.log(`skipping broker test: ${skip}`);

const HOST = 0;
/** The VM's /128: prefix::10, as the allocator would give the first VM. */
const vmAddressIn = (prefix: string) => bigIntToIpv6(ipv6ToBigInt(prefix.split("/")[0]!) + 0x10n);
const REGISTRY_OWNER = 1;
const OPERATOR = 2;

describe.skipIf(!!skip)("broker client ⇄ broker simulator (anvil, WireGuard in namespaces)", () => {
  let anvil: Anvil;
  let net: Devnet;
  let root: ReturnType<typeof tempDir>;
  let host: TestNetns;
  let vm: PlainNetns;
  let brokerNs: PlainNetns;
  let sim: BrokerSimulator;
  let registry: `0x${string}`;
  let client: BrokerClientOptions;
  let agent: PrefixAgent;
  let firstPrefix: string;
  const savedRoot = process.env.BLOCKHOST_ROOT;
  const said: string[] = [];

  beforeAll(async () => {
    root = tempDir("bh-broker-");
    process.env.BLOCKHOST_ROOT = root.dir;
    writeScopeConfig(root.dir); // the VM bridge; the prefix comes from the saved allocation
    anvil = await startAnvil();
    net = devnet(anvil);
    host = createTestNetns();
    vm = vmBehindTap(host);
    brokerNs = createPlainNetns();
    // The broker is reachable over IPv4 on the host's eth0.
    linkNamespaces(host, "eth0", "10.77.0.1/24", brokerNs, "eth0", "10.77.0.2/24");

    sim = await startBrokerSimulator({
      net,
      operator: OPERATOR,
      netns: brokerNs.name,
      endpointAddress: "10.77.0.2",
      dnsZone: "broker.test",
      tmpDir: root.dir,
    });
    registry = await deploy(net, REGISTRY_OWNER, brokerRegistryAbi, brokerRegistryBytecode);
    await send(net, REGISTRY_OWNER, {
      address: registry,
      abi: brokerRegistryAbi,
      functionName: "registerBroker",
      args: [net.addresses[OPERATOR], sim.requestsContract, sim.encryptionPubkey, "test-region"],
    });
    const nft = await deploy(net, HOST, accessCredentialNftAbi, accessCredentialNftBytecode, [
      "BlockhostAccess",
      "BHA",
    ]);

    const act = actionRunner({
      ...host.binaries,
      wg: netnsWrapper(root.dir, host.name, WG),
      "wireguard-go": netnsWrapper(root.dir, host.name, WIREGUARD_GO),
    });
    agent = { call: (name: string, params: unknown) => act(name, params) } as unknown as PrefixAgent;
    const access: ChainAccess = {
      chain: net.pub.chain!,
      rpcUrls: [anvil.rpcUrl],
      transport: http(anvil.rpcUrl),
      publicClient: net.pub,
    };
    client = {
      access,
      account: privateKeyToAccount(anvil.accounts[HOST]!.privateKey),
      nftContract: nft,
      serverKey: generatePrivateKey(),
      agent,
      pollMs: 200,
      timeoutMs: 30_000,
      say: (l) => said.push(l),
    };
  });
  afterAll(async () => {
    sim?.stop();
    if (host) Bun.spawnSync([IP, "netns", "exec", host.name, IP, "link", "del", "wg-broker"]);
    for (const ns of [vm, brokerNs, host]) ns?.cleanup();
    await anvil?.stop();
    root?.cleanup();
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = savedRoot;
  });

  test("request: a prefix from the registry's broker, saved without the WireGuard private key, tunnel up", async () => {
    const started = performance.now();
    const broker = await pickBroker(client.access, registry);
    expect(broker.requestsContract).toBe(sim.requestsContract);
    const allocation = await requestAllocation(client, broker);
    expect(allocation.prefix).toMatch(/^2001:db8:b0::[0-9a-f]+00\/120$/);
    expect(allocation).toMatchObject({
      gateway: sim.gateway,
      broker_wallet: net.addresses[OPERATOR],
      dns_zone: "broker.test",
    });
    const file = `${root.dir}/etc/blockhost/broker-allocation.json`;
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("private");
    expect(readBrokerAllocation()).toEqual(allocation);
    expect(statSync(`${root.dir}/etc/blockhost/wg-broker.key`).mode & 0o777).toBe(0o600);
    expect(text).not.toContain(readFileSync(`${root.dir}/etc/blockhost/wg-broker.key`, "utf8").trim());
    const conf = readFileSync(`${root.dir}/etc/wireguard/wg-broker.conf`, "utf8");
    expect(conf).toContain(`PostUp = wg set %i private-key ${root.dir}/etc/blockhost/wg-broker.key`);
    expect(conf).not.toContain("PrivateKey");
    expect(host.exec(WG, "show", "wg-broker", "peers").trim()).toBe(allocation.broker_pubkey);
    expect(sim.peers()).toContain(allocation.wg_public_key);
    firstPrefix = allocation.prefix;

    // The host side of the broker prefix, as in manual mode, and a VM with its /128.
    const prefix = parseHostPrefix(allocation.prefix);
    await setupPrefixHost(agent, prefix, { bridge: "vmbr0" });
    const vmAddr = vmAddressIn(allocation.prefix);
    vm.exec(IP, "-6", "addr", "add", `${vmAddr}/128`, "dev", "eth0");
    vm.exec(IP, "-6", "route", "add", `${prefix.bridgeAddress}/128`, "dev", "eth0");
    vm.exec(IP, "-6", "route", "add", "default", "via", prefix.bridgeAddress, "dev", "eth0");
    await exposeVmAddress(agent, { address: vmAddr, bridge: "vmbr0" });
    await settled(host, vm, brokerNs);
    expect(await pings(vm, sim.gateway, 10)).toBe(true);
    expect(await pings(brokerNs, vmAddr)).toBe(true);
    console.log(
      `broker request → VM reaching the broker over wg-broker: ${Math.round(performance.now() - started)} ms`,
    );
  });

  test("renew goes back to the same broker and keeps the prefix", async () => {
    const saved = readBrokerAllocation()!;
    const renewed = await requestAllocation(client, brokerOf(saved));
    expect(renewed.prefix).toBe(firstPrefix);
    expect(renewed.request_id).toBe(saved.request_id + 1);
    expect(await pings(brokerNs, vmAddressIn(firstPrefix))).toBe(true);
  });

  test("a broker that does not answer is a one-line timeout naming it", async () => {
    sim.stop();
    const quick = { ...client, timeoutMs: 1_500 };
    await expect(requestAllocation(quick, brokerOf(readBrokerAllocation()!))).rejects.toThrow(
      /no reply from broker 0x[0-9a-fA-F]{40} to request #3 within 2 s/,
    );
  });

  test("release: the tunnel is gone, the file is gone, the VM no longer reaches the broker", async () => {
    expect(await releaseAllocation(agent)).toEqual({ tunnel: true, file: true });
    expect(host.exec(IP, "link", "show")).not.toContain("wg-broker");
    expect(existsSync(`${root.dir}/etc/blockhost/broker-allocation.json`)).toBe(false);
    expect(existsSync(`${root.dir}/etc/wireguard/wg-broker.conf`)).toBe(false);
    expect(await pings(vm, sim.gateway, 1)).toBe(false);
    expect(await releaseAllocation(agent)).toEqual({ tunnel: false, file: false });
  });
});
