// The agent's scope rules against the root-owned config of a temp root.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  enforceScope,
  requireBrokerPeer,
  requireDomain,
  requireNewDomain,
  requirePort,
  requireRoute,
  requireVmid,
} from "../../../src/agent/scope.ts";
import { tempDir } from "../../helpers/binary.ts";

const { dir: root, cleanup } = tempDir("blockhost-scope-");
const previous = process.env.BLOCKHOST_ROOT;
const etc = join(root, "etc/blockhost");
const PEER = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const noDomains = { domainDefined: async () => false };
const everyDomain = { domainDefined: async () => true };

const refused = (f: () => unknown, kind: string) => {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: "E_AGENT_OUT_OF_SCOPE", details: { kind } });
};

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  mkdirSync(etc, { recursive: true });
  mkdirSync(join(root, "var/lib/libvirt/blockhost/vms/blockhost-001"), { recursive: true });
  writeFileSync(
    join(etc, "db.yaml"),
    "bridge: vmbr0\nvmid_range: {start: 2000, end: 2099}\nip_pool: {network: 10.0.0.0/24, start: 10, end: 20, gateway: 10.0.0.1}\n" +
      "ipv6_pool: {prefix: '2001:db8:5::/64'}\n",
  );
  writeFileSync(
    join(etc, "blockhost.yaml"),
    "server: {key_file: /k}\nbackend: proxmox\n" +
      "proxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001}\n",
  );
  writeFileSync(
    join(etc, "admin-commands.json"),
    JSON.stringify({ commands: { abc123: { action: "knock", params: { allowed_ports: [22, 2222] } } } }),
  );
  writeFileSync(
    join(etc, "broker-allocation.json"),
    JSON.stringify({
      mode: "broker",
      prefix: "2001:db8:7::/120",
      gateway: "2001:db8:7::1",
      broker_pubkey: PEER,
      broker_endpoint: "192.0.2.7:51820",
      nft_contract: "0x0000000000000000000000000000000000000001",
      request_id: 1,
      wg_public_key: PEER,
      allocated_at: "2026-12-01T00:00:00Z",
      broker_wallet: "0x0000000000000000000000000000000000000002",
      requests_contract: "0x0000000000000000000000000000000000000003",
      broker_id: 1,
      broker_encryption_pubkey: `0x04${"ab".repeat(64)}`,
    }),
  );
});
afterAll(() => {
  if (previous === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previous;
  cleanup();
});

describe("VMIDs", () => {
  test("db.yaml's vmid_range and the template VMID are ours; the operator's others are not", () => {
    for (const id of [2000, 2050, 2099, 9001]) requireVmid(id);
    for (const id of [100, 1999, 2100, 9000, 999_999]) refused(() => requireVmid(id), "vmid");
  });
  test("on a cluster, each node's own template VMID is ours too", () => {
    const file = join(root, "etc/blockhost/blockhost.yaml");
    const before = readFileSync(file, "utf8");
    try {
      writeFileSync(
        file,
        "server: {key_file: /k}\nbackend: proxmox\nproxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001, " +
          "cluster: {nodes: {pve2: {template_vmid: 9002}, pve3: {drain: true}}}}\n",
      );
      for (const id of [9001, 9002, 2000]) requireVmid(id);
      refused(() => requireVmid(9003), "vmid");
    } finally {
      writeFileSync(file, before);
    }
  });
  test("every action's vmid and newid are checked, whatever the action", async () => {
    await enforceScope("qm-clone", { vmid: 9001, newid: 2001, name: "x" }, noDomains);
    await expect(enforceScope("qm-clone", { vmid: 9001, newid: 105, name: "x" }, noDomains)).rejects.toMatchObject({
      code: "E_AGENT_OUT_OF_SCOPE",
    });
    await expect(enforceScope("some-future-action", { vmid: 100 }, noDomains)).rejects.toMatchObject({
      details: { kind: "vmid", value: "100" },
    });
  });
});

test("before db.yaml exists, during setup, only the wizard's read-only checks answer for any VMID", async () => {
  const bare = tempDir("blockhost-scope-bare-");
  process.env.BLOCKHOST_ROOT = bare.dir;
  try {
    await enforceScope("qm-config", { vmid: 9001 }, noDomains);
    await expect(enforceScope("qm-destroy", { vmid: 9001 }, noDomains)).rejects.toMatchObject({
      code: "E_AGENT_OUT_OF_SCOPE",
    });
    mkdirSync(join(bare.dir, "var/lib/blockhost-agent"), { recursive: true });
    writeFileSync(join(bare.dir, "var/lib/blockhost-agent/setup-complete"), "");
    await expect(enforceScope("qm-config", { vmid: 9001 }, noDomains)).rejects.toMatchObject({
      code: "E_AGENT_OUT_OF_SCOPE",
    });
  } finally {
    process.env.BLOCKHOST_ROOT = root;
    bare.cleanup();
  }
});

describe("libvirt domains", () => {
  test("a domain is ours when the agent made its VM directory", () => {
    requireDomain("blockhost-001", true);
    refused(() => requireDomain("operator-db", true), "domain");
    requireDomain("never-existed", false); // answering "gone" about nothing harms nobody
    refused(() => requireDomain("6f1c1f8e-3a38-4b52-9a1c-2f7f62d6c9a0", false), "domain");
  });
  test("a new VM may not take a name libvirt already has", async () => {
    requireNewDomain("blockhost-002", false);
    refused(() => requireNewDomain("operator-db", true), "domain");
    await expect(enforceScope("virsh-destroy", { name: "operator-db" }, everyDomain)).rejects.toMatchObject({
      code: "E_AGENT_OUT_OF_SCOPE",
    });
  });
});

test("knock ports are those of admin-commands.json", async () => {
  requirePort(22);
  requirePort(2222);
  refused(() => requirePort(3306), "port");
  await expect(enforceScope("iptables-open", { port: 80, comment: "x" }, noDomains)).rejects.toMatchObject({
    code: "E_AGENT_OUT_OF_SCOPE",
  });
  await enforceScope("iptables-close", { port: 80, comment: "x" }, noDomains); // closing only takes access away
});

test("routes go inside our prefixes to our bridge or our VMs' taps", () => {
  requireRoute("2001:db8:5::10/128", "vmbr0");
  requireRoute("2001:db8:7::10/128", "tap2001i0");
  refused(() => requireRoute("2001:db8:6::10/128", "vmbr0"), "route");
  refused(() => requireRoute("2001:db8:5::10/128", "docker0"), "route");
  refused(() => requireRoute("2001:db8:5::10/128", "tap100i0"), "vmid");
  refused(() => requireRoute("2001:db8:7::1:0/128", "vmbr0"), "route"); // outside the /120
});

test("the broker peer is the saved allocation's", () => {
  requireBrokerPeer(PEER, "192.0.2.7:51820");
  refused(() => requireBrokerPeer(PEER, "198.51.100.9:51820"), "broker-peer");
  refused(() => requireBrokerPeer("AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKA=", "192.0.2.7:51820"), "broker-peer");
});
