/** One BlockHost selling from a 3-node Proxmox cluster: the real agent and CLI against the qm/pvesh simulator. */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { runBlockhost } from "../../helpers/binary.ts";
import {
  canCreateNetns,
  PROXMOX_TEMPLATE_CONFIG,
  startProxmoxHost,
  type ProxmoxHost,
} from "../../helpers/proxmox-host.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";
import type { SimCluster } from "../../helpers/qm-simulator.ts";
import { VM_AUTH_FILES } from "../../../src/vmauth/files/index.ts";

const WALLET = "0x3333333333333333333333333333333333333333";
/** The manifest `blockhost template build` writes beside an image (what the import checks). */
const IMAGE_MANIFEST = {
  format: 1,
  blockhost_binary: "/usr/local/bin/blockhost",
  vmauth_files: VM_AUTH_FILES.map((f) => f.path),
  cloud_init: true,
  qemu_guest_agent: true,
  debian_suite: "bookworm",
  packages: ["cloud-init", "qemu-guest-agent"],
  built_at: "2026-12-01T18:00:00Z",
};
const GiB = 1024 ** 3;
const usable = canCreateNetns();
if (!usable) console.log("skip: proxmox cluster tests need root and iproute2 network namespaces");

/**
 * pve1 (this node): 32 GiB with 20 used, 16 idle CPUs; pve2: 64 GiB with 8 used, busy CPUs;
 * pve3: 16 GiB with 2 used. local-lvm (lvmthin) on each node; `san` is shared thick LVM (no
 * base volumes, no linked clones) with the most free space.
 */
const CLUSTER: SimCluster = {
  local: "pve1",
  nodes: [
    { name: "pve1", online: true, maxcpu: 16, cpu: 0.1, maxmem: 32 * GiB, mem: 20 * GiB },
    { name: "pve2", online: true, maxcpu: 8, cpu: 0.9, maxmem: 64 * GiB, mem: 8 * GiB },
    { name: "pve3", online: true, maxcpu: 4, cpu: 0, maxmem: 16 * GiB, mem: 2 * GiB },
  ],
  storages: [
    { id: "local", type: "dir", shared: false, maxdisk: 100 * GiB, disk: 0 },
    { id: "local-lvm", type: "lvmthin", shared: false, maxdisk: 400 * GiB, disk: 300 * GiB },
    { id: "san", type: "lvm", shared: true, maxdisk: 2000 * GiB, disk: 0 },
    { id: "snip", type: "cephfs", shared: true, maxdisk: 10 * GiB, disk: 0 },
  ],
};

/** A template like the import leaves it, on `node`'s local-lvm. */
const template = (vmid: number, node: string) => ({
  vmid,
  node,
  name: `tpl-${node}`,
  template: true,
  config: {
    ...PROXMOX_TEMPLATE_CONFIG,
    scsi0: `local-lvm:base-${vmid}-disk-0,size=4G`,
    ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`,
  },
});

describe.skipIf(!usable)("a 3-node Proxmox cluster through the real agent and the qm/pvesh simulator", () => {
  let env: { root: string; cleanup: () => void };
  let host: ProxmoxHost;
  const bh = (args: string[]) => runBlockhost(args, { root: env.root });
  const blockhostYaml = (cluster: string) =>
    writeFileSync(
      join(env.root, "etc/blockhost/blockhost.yaml"),
      [
        "server: {key_file: /etc/blockhost/server.key}",
        "backend: proxmox",
        "proxmox:",
        "  node: pve1",
        "  storage: local-lvm",
        "  bridge: vmbr0",
        "  template_vmid: 9001",
        // Every node reads its VMs' cloud-init snippets at start: they go to shared file storage.
        "  snippet_storage: snip",
        "  cluster:",
        ...cluster.split("\n").map((l) => `    ${l}`),
        "",
      ].join("\n"),
    );
  const NODES = "nodes:\n  pve2: {template_vmid: 9002}\n  pve3: {template_vmid: 9003, storage: san}";
  const create = (name: string, extra: string[] = []) =>
    bh(["vm", "create", name, "--owner-wallet", WALLET, "--memory", "2048", "--disk", "8", ...extra, "--apply"]);
  const nodeOfRecord = (name: string) => {
    const db = new Database(join(env.root, "var/lib/blockhost/blockhost.db"), { readonly: true });
    try {
      return db.query("SELECT node, extra, status, ip_address FROM vms WHERE vm_name = ?").get(name) as {
        node: string | null;
        ip_address: string | null;
        extra: string;
        status: string;
      };
    } finally {
      db.close();
    }
  };
  const vmidOf = (name: string) => host.sim.vms().find((v) => v.name === name)?.vmid;

  beforeAll(async () => {
    env = provisionRoot({ backend: "proxmox" });
    mkdirSync(join(env.root, "etc/pve"), { recursive: true });
    writeFileSync(
      join(env.root, "etc/pve/storage.cfg"),
      "dir: local\n\tpath /var/lib/vz\n\ncephfs: snip\n\tcontent snippets\n\tcontent-dirs snippets=ci\n",
    );
    host = await startProxmoxHost(env.root);
    host.sim.setCluster(CLUSTER);
    // startProxmoxHost made template 9001 on the sim's default node; here it lives on pve1.
    host.sim.addVm(template(9001, "pve1"));
    host.sim.addVm(template(9002, "pve2"));
    host.sim.addVm(template(9003, "pve3"));
  });
  afterAll(async () => {
    await host?.stop();
    env?.cleanup();
  });

  test("least_loaded_ram: the node with the most free memory (pve2) gets a linked clone of its own template", async () => {
    blockhostYaml(`strategy: least_loaded_ram\n${NODES}`);
    const r = await create("ram-1");
    expect(r.stderr).not.toContain("rolling back");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "placing VMID 100 on node pve2 (least_loaded_ram); linked clone of template 9002 on pve2",
    );
    expect(host.sim.vm(100)).toMatchObject({
      node: "pve2",
      status: "running",
      config: { scsi0: "local-lvm:vm-100-disk-0,size=8G" },
    });
    expect(host.sim.pveshCalls()).toContainEqual([
      "create",
      "/nodes/pve2/qemu/9002/clone",
      "--output-format",
      "json",
      "--newid",
      "100",
      "--name",
      "ram-1",
    ]);
    expect(nodeOfRecord("ram-1").node).toBe("pve2");
    // The snippets are on the shared storage, where pve-storage looks (its content-dirs override).
    expect(host.sim.vm(100)!.config.cicustom).toBe(
      "user=snip:snippets/blockhost-ram-1.yaml,meta=snip:snippets/blockhost-ram-1.meta",
    );
    expect(existsSync(join(env.root, "mnt/pve/snip/ci/blockhost-ram-1.yaml"))).toBe(true);
    // Nothing ran through local qm: every call named the VM's node.
    expect(host.sim.calls().filter((c) => c.includes("100"))).toEqual([]);
  });

  test("least_loaded_disk: thick-LVM shared storage with the most space (pve3's san) gets a full clone", async () => {
    blockhostYaml(`strategy: least_loaded_disk\n${NODES}`);
    const r = await create("disk-1");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "placing VMID 101 on node pve3 (least_loaded_disk); full clone to san of template 9003 on pve3",
    );
    expect(host.sim.vm(101)).toMatchObject({ node: "pve3", config: { scsi0: "san:vm-101-disk-0,size=8G" } });
    expect(host.sim.pveshCalls()).toContainEqual(
      expect.arrayContaining(["/nodes/pve3/qemu/9003/clone", "--full", "1", "--storage", "san"]),
    );
  });

  test("least_loaded_cpu: the idlest node (pve1, this node) gets it; its tap is isolated on the local bridge", async () => {
    blockhostYaml(`strategy: least_loaded_cpu\n${NODES}`);
    const r = await create("cpu-1");
    expect(r.code).toBe(0);
    expect(host.sim.vm(102)).toMatchObject({ node: "pve1", status: "running" });
    expect(
      Bun.spawnSync(["/usr/sbin/bridge", "-n", host.netns, "-d", "link", "show", "dev", "tap102i0"]).stdout.toString(),
    ).toContain("isolated on");
  });

  test("a node whose free memory the plan exceeds is skipped, and when none fits the create is refused before a VMID is spent", async () => {
    blockhostYaml(`strategy: least_loaded_cpu\n${NODES}`);
    // 20 GiB: pve1 (the idlest) has 10 GiB free, pve3 12 GiB: only pve2 can take it.
    const big = await create("big-1", ["--memory", "20480"]);
    expect(big.code).toBe(0);
    expect(host.sim.vm(103)).toMatchObject({ node: "pve2" });
    const huge = await create("huge-1", ["--memory", "204800"]);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain("no Proxmox node can take a VM of 204800 MiB / 8 GiB: pve1: 10.0 GiB free memory");
    expect(huge.stderr).toContain("pve3: 12.0 GiB free memory, the plan needs 200.0 GiB");
    expect((await bh(["vm", "status", "huge-1"])).code).toBe(1);
    expect((await create("next-1")).stdout).toContain('"vmid":104');
  });

  test("a drained node and a node at its max_vms cap get no new VM", async () => {
    blockhostYaml(
      "strategy: least_loaded_ram\nnodes:\n  pve1: {drain: true}\n  pve2: {template_vmid: 9002, max_vms: 2}\n  pve3: {template_vmid: 9003, storage: san}",
    );
    const r = await create("drain-1");
    expect(r.code).toBe(0);
    expect(host.sim.vm(105)).toMatchObject({ node: "pve3" });
    const status = JSON.parse((await bh(["status", "--json"])).stdout);
    expect(status.cluster.strategy).toBe("least_loaded_ram");
    expect(
      status.cluster.nodes.map((n: { node: string; vms: number; refusal: string | null }) => [n.node, n.vms]),
    ).toEqual([
      ["pve1", 2],
      ["pve2", 2],
      ["pve3", 2],
    ]);
    const refusal = (node: string) =>
      status.cluster.nodes.find((n: { node: string }) => n.node === node).refusal as string | null;
    expect(refusal("pve1")).toBe("drained (proxmox.cluster.nodes.pve1.drain)");
    expect(refusal("pve2")).toBe("max_vms 2 reached (2 VMs)");
    expect(refusal("pve3")).toBeNull();
  });

  test("an HA move mid-life is followed: power and destroy go to the new node, the record follows", async () => {
    const vmid = vmidOf("ram-1")!;
    // HA recovery: pve2 failed, the config now sits in pve3's directory (no API call of ours).
    host.sim.moveVm(vmid, "pve3");
    expect((await bh(["vm", "stop", "ram-1"])).code).toBe(0);
    expect(host.sim.vm(vmid)).toMatchObject({ node: "pve3", status: "stopped" });
    expect(host.sim.pveshCalls()).toContainEqual([
      "create",
      `/nodes/pve3/qemu/${vmid}/status/shutdown`,
      "--output-format",
      "json",
      "--timeout",
      "300",
    ]);
    expect((await bh(["vm", "start", "ram-1"])).code).toBe(0);
    expect(JSON.parse((await bh(["vm", "status", "ram-1", "--json"])).stdout)).toMatchObject({ power: "running" });
    // gc (cluster-wide) records where each VM lives now before acting.
    const gc = await bh(["gc", "--execute"]);
    expect(gc.stdout).toContain("ram-1 moved from pve2 to pve3");
    expect(nodeOfRecord("ram-1").node).toBe("pve3");
    expect((await bh(["vm", "status", "ram-1"])).stdout).toBe("active, hypervisor: running (node pve3)\n");
    expect((await bh(["vm", "destroy", "ram-1"])).code).toBe(0);
    expect(host.sim.vm(vmid)).toBeUndefined();
    expect(host.sim.pveshCalls()).toContainEqual([
      "delete",
      `/nodes/pve3/qemu/${vmid}`,
      "--output-format",
      "json",
      "--purge",
      "1",
    ]);
  });

  test("a VM the cluster has on no node is flagged, never destroyed", async () => {
    const vmid = vmidOf("disk-1")!;
    const saved = host.sim.vm(vmid)!;
    // Its node left the cluster with it: /cluster/resources lists it nowhere.
    rmSync(join(host.sim.stateDir, "vms", `${vmid}.json`));
    const gc = await bh(["gc", "--execute"]);
    expect(gc.code).toBe(0);
    const row = nodeOfRecord("disk-1");
    expect(row.status).toBe("active");
    expect(JSON.parse(row.extra).unplaced_since).toMatch(/^\d{4}-/);
    const status = JSON.parse((await bh(["status", "--json"])).stdout);
    expect(status.cluster.unplaced).toEqual(["disk-1"]);
    expect(JSON.parse((await bh(["vm", "status", "disk-1", "--json"])).stdout)).toMatchObject({ power: "missing" });
    // It turns up again (a node back from maintenance): the flag is cleared.
    host.sim.addVm(saved);
    await bh(["gc", "--execute"]);
    expect(JSON.parse(nodeOfRecord("disk-1").extra).unplaced_since).toBeUndefined();
  });

  test("a template on another node's local storage cannot serve a node: refused with the reason", async () => {
    // pve3 without its own template: 9001 is on pve1's local-lvm, which pve3 cannot clone from.
    blockhostYaml("strategy: least_loaded_ram\nnodes:\n  pve1: {drain: true}\n  pve2: {drain: true}");
    const r = await create("tpl-1");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "pve3: template VMID 9001 is on pve1's local storage local-lvm (give this node its own template_vmid, or keep the template on shared storage)",
    );
  });
  test("a node with its own IPv4 pool: its VMs get addresses there, a move off it is flagged, a reinstall stays on it", async () => {
    const pve3Pool = "ip_pool: {network: '10.77.0.0/24', start: 10, end: 20, gateway: '10.77.0.1'}";
    blockhostYaml(
      `strategy: least_loaded_ram\nnodes:\n  pve1: {drain: true}\n  pve2: {drain: true}\n  pve3: {template_vmid: 9003, ${pve3Pool}}`,
    );
    expect((await create("split-1")).code).toBe(0);
    const vmid = vmidOf("split-1")!;
    expect(host.sim.vm(vmid)).toMatchObject({ node: "pve3" });
    expect(host.sim.vm(vmid)!.config.ipconfig0).toContain("ip=10.77.0.10/24,gw=10.77.0.1");
    expect(nodeOfRecord("split-1").ip_address).toBe("10.77.0.10");

    // A migration to pve2 (the shared pool's segment): the address does not route there; flagged, left running.
    host.sim.moveVm(vmid, "pve2");
    expect((await bh(["gc", "--execute"])).code).toBe(0);
    expect(JSON.parse(nodeOfRecord("split-1").extra).address_foreign).toBe("pve2");
    const status = JSON.parse((await bh(["status", "--json"])).stdout);
    expect(status.cluster.foreign).toContain("split-1 (on pve2)");
    expect(host.sim.vm(vmid)).toMatchObject({ status: "running" });
    host.sim.moveVm(vmid, "pve3");
    await bh(["gc", "--execute"]);
    expect(JSON.parse(nodeOfRecord("split-1").extra).address_foreign).toBeUndefined();

    // Reinstall places the VM again: only pve3 holds its address, so with pve3 drained it is refused.
    blockhostYaml(
      `strategy: least_loaded_ram\nnodes:\n  pve2: {template_vmid: 9002}\n  pve3: {template_vmid: 9003, drain: true, ${pve3Pool}}`,
    );
    const refused = await bh(["vm", "reinstall", "split-1"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("pve2: its IPv4 pool does not hold the VM's address 10.77.0.10");
    blockhostYaml(
      `strategy: least_loaded_ram\nnodes:\n  pve2: {template_vmid: 9002}\n  pve3: {template_vmid: 9003, ${pve3Pool}}`,
    );
    expect((await bh(["vm", "reinstall", "split-1"])).code).toBe(0);
    expect(host.sim.vm(vmidOf("split-1")!)).toMatchObject({ node: "pve3" });
    expect(nodeOfRecord("split-1").ip_address).toBe("10.77.0.10");
  });
  test("template import --node: imported on this node, migrated with its disk to the node's storage, checked there", async () => {
    blockhostYaml(
      `strategy: least_loaded_ram\nnodes:\n  pve2: {template_vmid: 9012}\n  pve3: {template_vmid: 9003, storage: san}`,
    );
    const dir = join(env.root, "var/lib/blockhost/images");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "node-template.qcow2");
    const content = Buffer.alloc(3 * 1048576 + 5, 7);
    writeFileSync(path, content);
    writeFileSync(
      `${path}.json`,
      JSON.stringify({ ...IMAGE_MANIFEST, sha256: createHash("sha256").update(content).digest("hex") }),
    );
    const r = await bh(["proxmox", "template", "import", path, "--node", "pve2"]);
    expect(r).toMatchObject({ code: 0, stdout: "template 9012 ready on pve2\n" });
    expect(host.sim.vm(9012)).toMatchObject({ node: "pve2", template: true });
    expect(host.sim.vm(9012)!.config.scsi0).toMatch(/^local-lvm:base-9012-disk-0/);
    expect(host.sim.pveshCalls()).toContainEqual([
      "create",
      "/nodes/pve1/qemu/9012/migrate",
      "--output-format",
      "json",
      "--target",
      "pve2",
      "--targetstorage",
      "local-lvm",
    ]);
    // The node's new template serves placement there: a linked clone on pve2.
    expect((await create("on-new-tpl")).code).toBe(0);
    expect(host.sim.vm(vmidOf("on-new-tpl")!)).toMatchObject({ node: "pve2" });

    const noNode = await bh(["proxmox", "template", "import", path, "--node", "pve9"]);
    expect(noNode.code).toBe(2);
    expect(noNode.stderr).toContain("--node pve9: give --vmid, or set proxmox.cluster.nodes.pve9.template_vmid");
  });
});
