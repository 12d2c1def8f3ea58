/** Placement across a Proxmox cluster: which node gets a VM, and why the others do not. */
import { describe, expect, test } from "bun:test";
import type { ProxmoxClusterSettings } from "../../../src/core/config/schemas.ts";
import { candidates, placeVm, type PlacementRequest } from "../../../src/provision/backends/proxmox-placement.ts";

const GiB = 1024 ** 3;
const node = (name: string, memFree: number, idle: number, online = true) => ({
  node: name,
  online,
  maxcpu: 8,
  cpu: 1 - idle / 8,
  maxmem: 64 * GiB,
  mem: (64 - memFree) * GiB,
});
const storage = (n: string, id: string, type: string, free: number, shared = false) => ({
  node: n,
  storage: id,
  type,
  shared,
  maxdisk: 1000 * GiB,
  disk: (1000 - free) * GiB,
});

function request(
  settings: Partial<ProxmoxClusterSettings> = {},
  plan = { memoryMb: 4096, diskGb: 20 },
): PlacementRequest {
  return {
    cluster: {
      nodes: [node("a", 10, 6), node("b", 40, 1), node("c", 20, 3)],
      storages: [
        storage("a", "local-lvm", "lvmthin", 100),
        storage("b", "local-lvm", "lvmthin", 50),
        storage("c", "local-lvm", "lvmthin", 900),
        ...["a", "b", "c"].map((n) => storage(n, "san", "lvm", 500, true)),
        ...["a", "b", "c"].map((n) => storage(n, "snip", "cephfs", 500, true)),
        ...["a", "b", "c"].map((n) => storage(n, "local", "dir", 50)),
      ],
      vms: [
        { vmid: 9001, node: "a", status: "stopped", template: true, name: "tpl", maxmem: GiB },
        { vmid: 100, node: "b", status: "running", template: false, name: "v1", maxmem: 8 * GiB },
        { vmid: 5000, node: "b", status: "running", template: false, name: "other", maxmem: 8 * GiB },
      ],
    },
    settings: { strategy: "least_loaded_ram", nodes: {}, ...settings },
    defaults: { storage: "san", bridge: "vmbr0", templateVmid: 9001 },
    templates: new Map([[9001, { node: "a", storage: "san" }]]),
    plan,
    isOurs: (vmid) => vmid >= 100 && vmid <= 999,
    localNode: "a",
    snippetStorage: "snip",
  };
}

describe("placeVm", () => {
  test("each strategy picks the most headroom: ram → b, cpu → a, disk → ties broken by name", () => {
    expect(placeVm(request()).node).toBe("b");
    expect(placeVm(request({ strategy: "least_loaded_cpu" })).node).toBe("a");
    expect(placeVm(request({ strategy: "least_loaded_disk" })).node).toBe("a");
    const local = request({
      strategy: "least_loaded_disk",
      nodes: { a: { storage: "local-lvm" }, c: { storage: "local-lvm" } },
    });
    expect(placeVm(local).node).toBe("c");
  });

  test("a template on shared thick LVM: clone from its node to the target, always in full", () => {
    const c = placeVm(request());
    expect(c).toMatchObject({ node: "b", storage: "san", clone: { fromNode: "a", full: true } });
  });

  test("a linked clone only onto the template's own linking storage", () => {
    const r = request({ nodes: { a: { storage: "local-lvm" }, b: { drain: true }, c: { drain: true } } });
    r.templates = new Map([[9001, { node: "a", storage: "local-lvm" }]]);
    expect(placeVm(r)).toMatchObject({ node: "a", clone: { fromNode: "a", full: false } });
  });

  test("drain, caps counting only BlockHost's VMIDs, offline, and a plan too big are each named", () => {
    const r = request({ nodes: { a: { drain: true }, b: { max_vms: 1 }, c: { max_memory_mb: 2048 } } });
    r.cluster.nodes.push(node("d", 60, 8, false));
    expect(() => placeVm(r)).toThrow(
      "no Proxmox node can take a VM of 4096 MiB / 20 GiB: a: drained (proxmox.cluster.nodes.a.drain); b: max_vms 1 reached (1 VMs); c: max_memory_mb 2048 would be passed (0 MiB in use); d: offline",
    );
    const tooBig = request({}, { memoryMb: 45 * 1024, diskGb: 20 });
    expect(candidates(tooBig).map((c) => c.refusal)).toEqual([
      "10.0 GiB free memory, the plan needs 45.0 GiB",
      "40.0 GiB free memory, the plan needs 45.0 GiB",
      "20.0 GiB free memory, the plan needs 45.0 GiB",
    ]);
    expect(() => placeVm(request({}, { memoryMb: 1024, diskGb: 600 }))).toThrow(
      "500.0 GiB free on san, the plan needs 600 GiB",
    );
  });

  test("a VM keeping its IPv4 address (reinstall) goes only to a node whose pool holds it; the others name why", () => {
    const r = request();
    r.keepAddress = { address: "10.77.0.10", holds: (n) => n === "a" };
    expect(placeVm(r).node).toBe("a");
    expect(candidates(r).map((c) => c.refusal)).toEqual([
      undefined,
      "its IPv4 pool does not hold the VM's address 10.77.0.10",
      "its IPv4 pool does not hold the VM's address 10.77.0.10",
    ]);
  });

  test("creates in flight count against a node: memory, disk and max_vms, so concurrent creates spread out", () => {
    const r = request({ nodes: { b: { max_vms: 3 } } });
    expect(placeVm(r).node).toBe("b");
    r.pending = new Map([["b", { vms: 2, memoryMb: 36 * 1024, diskGb: 40 }]]);
    const b = candidates(r).find((c) => c.node === "b")!;
    expect(b).toMatchObject({ ourVms: 3, freeMemBytes: 4 * GiB, refusal: "max_vms 3 reached (3 VMs)" });
    expect(placeVm(r).node).toBe("c");
  });

  test("snippets on this node's local storage: other nodes could not read a VM's cloud-init, so only this node fits", () => {
    const r = { ...request(), snippetStorage: "local" };
    expect(candidates(r).map((c) => [c.node, c.refusal ?? "ok"])).toEqual([
      ["a", "ok"],
      [
        "b",
        "snippet storage local is not shared with it (set proxmox.snippet_storage to a shared file storage: NFS, CephFS)",
      ],
      [
        "c",
        "snippet storage local is not shared with it (set proxmox.snippet_storage to a shared file storage: NFS, CephFS)",
      ],
    ]);
  });

  test("a template on another node's local storage cannot serve a node; a missing template is named", () => {
    const r = request({
      nodes: { a: { storage: "local-lvm" }, b: { storage: "local-lvm" }, c: { storage: "local-lvm" } },
    });
    r.templates = new Map([[9001, { node: "a", storage: "local-lvm" }]]);
    expect(candidates(r).map((c) => [c.node, c.refusal ?? "ok"])).toEqual([
      ["a", "ok"],
      [
        "b",
        "template VMID 9001 is on a's local storage local-lvm (give this node its own template_vmid, or keep the template on shared storage)",
      ],
      [
        "c",
        "template VMID 9001 is on a's local storage local-lvm (give this node its own template_vmid, or keep the template on shared storage)",
      ],
    ]);
    r.templates = new Map();
    expect(candidates(r)[0]!.refusal).toBe("template VMID 9001 is not in the cluster");
  });
});
