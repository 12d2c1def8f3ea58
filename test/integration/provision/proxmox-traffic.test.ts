/** Traffic plans on Proxmox through the real agent and the qm simulator: net0 rate=/link_down=, scsi0 iops/mbps. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getTrafficRow } from "../../../src/core/state/traffic.ts";
import { updateVm } from "../../../src/core/state/vms.ts";
import { recordUsage } from "../../../src/core/state/usage.ts";
import { zeroCounters } from "../../../src/core/usage-counters.ts";
import { TrafficDuty } from "../../../src/engine/traffic/duty.ts";
import { openProvisioner, type Provisioner } from "../../../src/provision/context.ts";
import { applyCreate } from "../../../src/provision/create.ts";
import { canCreateNetns, startProxmoxHost, type ProxmoxHost } from "../../helpers/proxmox-host.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const usable = canCreateNetns();
if (!usable) console.log("skip: proxmox traffic tests need root and iproute2 network namespaces");

describe.skipIf(!usable)("traffic plans on Proxmox (qm simulator)", () => {
  let env: { root: string; cleanup: () => void };
  let host: ProxmoxHost;
  let p: Provisioner;
  const savedRoot = process.env.BLOCKHOST_ROOT;
  const net0 = () => host.sim.vm(100)!.config.net0!;
  /** One reading of VM `name` with these raw counters (what the sampler records each pass). */
  const reading = (name: string, at: number, rx: number, tx: number) =>
    recordUsage(p.db, [
      {
        vmName: name,
        at,
        instance: "pve",
        raw: { ...zeroCounters(), rxBytes: rx, txBytes: tx },
        cpuCores: 0,
        memUsedBytes: 0,
        memMaxBytes: 0,
      },
    ]);

  beforeAll(async () => {
    env = provisionRoot({
      backend: "proxmox",
      extraBlockhostYaml: [
        "proxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001}",
        'plans: {"5": {cpu: 1, memory_mb: 1024, disk_gb: 8, traffic_gb_month: 1, rate_mbit: 100, throttled_mbit: 4, iops: 500, mbps: 50},',
        '        "6": {cpu: 1, memory_mb: 1024, disk_gb: 8, traffic_gb_month: 1, overage: suspend-network}}',
      ].join("\n"),
    });
    host = await startProxmoxHost(env.root);
    process.env.BLOCKHOST_ROOT = env.root;
    p = openProvisioner({ say: () => {} });
  });
  afterAll(async () => {
    p?.db.close();
    await host?.stop();
    env?.cleanup();
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = savedRoot;
  });

  const create = (name: string, planId: number) =>
    applyCreate(p, {
      name,
      ownerWallet: "0x3333333333333333333333333333333333333333",
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
      cpu: 1,
      memoryMb: 1024,
      diskGb: 8,
      username: "admin",
      subscriptionId: null,
      purpose: "test",
      planId,
    });

  test("create sets the plan's rate on net0 in MiB/s and its iops/mbps on scsi0 (accepted by PVE's formats)", async () => {
    await create("px-traffic-1", 5);
    const vm = host.sim.vm(100)!;
    // 100 Mbit/s = 12.5e6 B/s = 11.921 MiB/s (PVE's "megabytes per second" are 1024 × 1024 bytes).
    expect(vm.config.net0).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0,firewall=1,rate=11\.921$/);
    expect(vm.config.scsi0!.split(",").sort()).toEqual(["iops=500", "local-lvm:vm-100-disk-0", "mbps=50", "size=8G"]);
  });

  test("over the quota the duty throttles net0 (rate=0.477); the reset day restores the plan's rate", async () => {
    const t0 = Date.now();
    const duty = (clock: number) =>
      new TrafficDuty({ db: p.db, backend: p.backend, plans: p.plans ?? {}, intervalMs: 0, clock: () => clock });
    reading("px-traffic-1", t0, 0, 0);
    reading("px-traffic-1", t0 + 60_000, 400_000_000, 500_000_000);
    expect((await duty(t0 + 60_000).pass()).applied).toEqual([]);
    reading("px-traffic-1", t0 + 120_000, 500_000_000, 600_000_000);
    expect((await duty(t0 + 120_000).pass()).applied).toEqual([
      { vm: "px-traffic-1", state: "throttled", usedBytes: 1_100_000_000 },
    ]);
    expect(net0()).toEndWith(",firewall=1,rate=0.477");
    // A second pass (or an engine restart) changes nothing: qm set is not called again.
    const sets = host.sim.calls().filter((c) => c[0] === "set").length;
    expect((await duty(t0 + 180_000).pass()).applied).toEqual([]);
    expect(host.sim.calls().filter((c) => c[0] === "set").length).toBe(sets);
    const reset = getTrafficRow(p.db, "px-traffic-1")!;
    const next = new Date(reset.anchor_at);
    next.setUTCMonth(next.getUTCMonth() + 1);
    expect((await duty(next.getTime()).pass()).applied).toEqual([
      { vm: "px-traffic-1", state: "normal", usedBytes: 0 },
    ]);
    expect(net0()).toEndWith(",firewall=1,rate=11.921");
  });

  test("suspend-network sets link_down=1 on net0; buying more days lifts it and starts a new period", async () => {
    const { vmid } = await create("px-traffic-2", 6);
    const t0 = Date.now();
    const duty = (clock: number) =>
      new TrafficDuty({ db: p.db, backend: p.backend, plans: p.plans ?? {}, intervalMs: 0, clock: () => clock });
    reading("px-traffic-2", t0, 0, 0);
    reading("px-traffic-2", t0 + 60_000, 2_000_000_000, 0);
    expect((await duty(t0 + 60_000).pass()).applied).toContainEqual({
      vm: "px-traffic-2",
      state: "suspended",
      usedBytes: 2_000_000_000,
    });
    expect(host.sim.vm(vmid)!.config.net0).toEndWith(",firewall=1,link_down=1");
    // The customer extends: the expiry moves forward, and the next pass restores the link.
    updateVm(p.db, "px-traffic-2", { expires_at: new Date(t0 + 60 * 86_400_000).toISOString() });
    expect((await duty(t0 + 120_000).pass()).applied).toContainEqual({
      vm: "px-traffic-2",
      state: "normal",
      usedBytes: 0,
    });
    expect(host.sim.vm(vmid)!.config.net0).toEndWith(",firewall=1");
    expect(getTrafficRow(p.db, "px-traffic-2")).toMatchObject({ anchor_at: t0 + 120_000, state: "normal" });
  });
});
