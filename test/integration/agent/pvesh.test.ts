/** The qm-* actions with a `node`, and the cluster reads, against the pvesh simulator: what real pvesh does on failure. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { actionRunner } from "../../helpers/action-context.ts";
import { tempDir } from "../../helpers/binary.ts";
import { createQmSimulator, type QmSimulator } from "../../helpers/qm-simulator.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

const GiB = 1024 ** 3;
let sim: QmSimulator;
let act: ReturnType<typeof actionRunner>;
const { dir: root, cleanup } = tempDir("blockhost-pvesh-");
const previousRoot = process.env.BLOCKHOST_ROOT;

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  // The agent's scope: these VMIDs (customer VMs and the nodes' templates) are BlockHost's.
  writeScopeConfig(root, { vmidRange: { start: 100, end: 9999 } });
  sim = createQmSimulator();
  sim.setCluster({
    local: "pve1",
    nodes: ["pve1", "pve2"].map((name) => ({ name, online: true, maxcpu: 4, cpu: 0.5, maxmem: 8 * GiB, mem: GiB })),
    storages: [{ id: "local-lvm", type: "lvmthin", shared: false, maxdisk: 100 * GiB, disk: 0 }],
  });
  sim.addVm({
    vmid: 9002,
    node: "pve2",
    template: true,
    config: { scsi0: "local-lvm:base-9002-disk-0,size=2G", agent: "1", memory: "1024" },
  });
  act = actionRunner({ qm: sim.qmPath, pvesh: sim.pveshPath });
});
afterAll(() => {
  sim.cleanup();
  cleanup();
  if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previousRoot;
});

describe("a VM on another node", () => {
  test("qm cannot see it; the API on its node can, and every task's status is read back", async () => {
    await expect(act("qm-config", { vmid: 9002 })).rejects.toMatchObject({
      code: "E_NOT_FOUND",
      message: expect.stringContaining("Configuration file 'nodes/pve1/qemu-server/9002.conf' does not exist"),
    });
    await act("qm-clone", { vmid: 9002, newid: 120, name: "far-1", node: "pve2" });
    expect(sim.vm(120)).toMatchObject({ node: "pve2", config: { scsi0: "local-lvm:vm-120-disk-0,size=2G" } });
    await act("qm-start", { vmid: 120, node: "pve2" });
    expect(await act("qm-status", { vmid: 120, node: "pve2" })).toEqual({ status: "running" });
    expect(await act("qm-guest-exec", { vmid: 120, node: "pve2", command: ["uname", "-a"] })).toMatchObject({
      exited: true,
      exitcode: 0,
      stdout: "uname -a\n",
    });
    expect(sim.pveshCalls().at(-1)).toEqual([
      "get",
      "/nodes/pve2/qemu/120/agent/exec-status",
      "--output-format",
      "json",
      "--pid",
      "4242",
    ]);
  });

  test("a failed task exits 0 from pvesh; the action fails with the task's error", async () => {
    await act("qm-stop", { vmid: 120, node: "pve2" });
    sim.failNext("start", "start failed: QEMU exited with code 1");
    await expect(act("qm-start", { vmid: 120, node: "pve2" })).rejects.toThrow(
      "pvesh start of VM 120 on pve2 failed: start failed: QEMU exited with code 1",
    );
    expect(sim.vm(120)!.status).toBe("stopped");
    await expect(act("qm-resize", { vmid: 120, node: "pve2", disk: "scsi0", size: "1G" })).rejects.toThrow(
      "qm resize 120 scsi0 1G did not take effect (scsi0 is 2G): shrinking disks is not supported",
    );
  });

  test("a proxied error keeps the remote reason, not the SSH line; a VM gone from its node is missing", async () => {
    expect(await act("qm-status", { vmid: 121, node: "pve2" })).toEqual({ status: "missing" });
    await expect(act("qm-start", { vmid: 121, node: "pve2" })).rejects.toMatchObject({
      message: "pvesh exited 255: Configuration file 'nodes/pve2/qemu-server/121.conf' does not exist",
    });
    expect(await act("qm-destroy", { vmid: 121, node: "pve2" })).toEqual({ output: "", destroyed: false });
    expect(await act("qm-destroy", { vmid: 120, node: "pve2" })).toMatchObject({ destroyed: true });
    expect(sim.vm(120)).toBeUndefined();
  });

  test("a template conversion on a remote node that leaves a vm- disk is refused (N2 through the API)", async () => {
    sim.addVm({ vmid: 9010, node: "pve2", config: { scsi0: "local-lvm:vm-9010-disk-0,size=2G" } });
    sim.failNext("create-base");
    await expect(act("qm-template", { vmid: 9010, node: "pve2" })).rejects.toThrow(
      "qm template 9010 left scsi0 on a vm- volume (local-lvm:vm-9010-disk-0), not a base volume: lvrename",
    );
  });
});

describe("cluster reads", () => {
  test("resources are reduced to nodes, storages and guests; a taken VMID is not free", async () => {
    const r = (await act("pve-cluster-resources", {})) as {
      nodes: Array<{ node: string; maxmem: number }>;
      storages: Array<{ node: string; storage: string; type: string; shared: boolean }>;
      vms: Array<{ vmid: number; node: string; template: boolean }>;
    };
    expect(r.nodes.map((n) => n.node)).toEqual(["pve1", "pve2"]);
    expect(r.storages).toContainEqual(
      expect.objectContaining({ node: "pve2", storage: "local-lvm", type: "lvmthin", shared: false }),
    );
    expect(r.vms).toContainEqual(expect.objectContaining({ vmid: 9002, node: "pve2", template: true }));
    expect(await act("pve-vmid-free", { vmid: 9002 })).toEqual({ free: false });
    expect(await act("pve-vmid-free", { vmid: 130 })).toEqual({ free: true });
  });
});
