/**
 * Usage sampling through the agent's actions: Proxmox through the pvesh simulator (restart and
 * migration keep totals monotonic), libvirt against a real running domain (`virsh domstats` of a
 * tiny diskless TCG domain that idles in its firmware; no OS boots), answering for our domains only.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "../../src/core/paths.ts";
import { migrate } from "../../src/core/state/db.ts";
import { MIGRATIONS } from "../../src/core/state/migrations.ts";
import { currentUsage, recordUsage } from "../../src/core/state/usage.ts";
import type { AgentCaller } from "../../src/provision/backends/types.ts";
import { libvirtReadings, proxmoxReadings } from "../../src/provision/backends/usage-readings.ts";
import { actionRunner } from "../helpers/action-context.ts";
import { tempDir } from "../helpers/binary.ts";
import { createQmSimulator, type QmSimulator } from "../helpers/qm-simulator.ts";
import { writeScopeConfig } from "../helpers/scope-config.ts";

const GiB = 1024 ** 3;
const { dir: root, cleanup } = tempDir("blockhost-usage-");
const previousRoot = process.env.BLOCKHOST_ROOT;
let act: ReturnType<typeof actionRunner>;
let sim: QmSimulator;
const agentOf = (run: ReturnType<typeof actionRunner>) => ({ call: run }) as unknown as AgentCaller;

beforeAll(() => {
  process.env.BLOCKHOST_ROOT = root;
  writeScopeConfig(root, { vmidRange: { start: 100, end: 199 } });
  sim = createQmSimulator();
  sim.setCluster({
    local: "pve1",
    nodes: ["pve1", "pve2"].map((name) => ({ name, online: true, maxcpu: 8, cpu: 0.1, maxmem: 16 * GiB, mem: GiB })),
    storages: [{ id: "local-lvm", type: "lvmthin", shared: false, maxdisk: 100 * GiB, disk: 0 }],
  });
  for (const vmid of [101, 102, 500]) sim.addVm({ vmid, node: "pve1", config: { cores: "2", memory: "2048" } });
  act = actionRunner({ qm: sim.qmPath, pvesh: sim.pveshPath });
});
afterAll(() => {
  sim.cleanup();
  cleanup();
  if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
  else process.env.BLOCKHOST_ROOT = previousRoot;
});

describe("Proxmox: /cluster/resources through pve-guest-usage", () => {
  test("one pvesh call answers for our running guests only, with their counters", async () => {
    await act("qm-start", { vmid: 101 });
    // 500 is the operator's own guest (outside vmid_range), started by the operator.
    expect(Bun.spawnSync([sim.qmPath, "start", "500"]).exitCode).toBe(0);
    sim.addGuestCounters(101, { netin: 5000, netout: 7000, diskread: 100, diskwrite: 200, cpu: 0.25, mem: GiB });
    sim.addGuestCounters(500, { netin: 1 });
    const calls = sim.pveshCalls().length;
    const { guests } = (await act("pve-guest-usage", {})) as { guests: Array<Record<string, unknown>> };
    // 500 is outside vmid_range (not ours), 102 is stopped.
    expect(guests).toEqual([
      {
        vmid: 101,
        node: "pve1",
        uptime: expect.any(Number),
        cpu: 0.25,
        maxcpu: 2,
        mem: GiB,
        maxmem: 2 * GiB,
        netin: 5000,
        netout: 7000,
        diskread: 100,
        diskwrite: 200,
      },
    ]);
    expect(sim.pveshCalls().slice(calls)).toEqual([
      ["get", "/cluster/resources", "--output-format", "json", "--type", "vm"],
    ]);
  });

  test("totals stay monotonic across a power cycle and a live migration (new QEMU process, counters from 0)", async () => {
    const db = new Database(":memory:", { strict: true });
    migrate(db, MIGRATIONS);
    const agent = agentOf(act);
    const vms = [{ name: "web-101", vmid: 101, ipv6: null }];
    const pass = async () => recordUsage(db, await proxmoxReadings(agent, vms, Date.now()));
    // The guest has been up an hour (pvestatd's uptime), so a restart shows as a later boot time.
    sim.addVm({ ...sim.vm(101)!, startedAt: Date.now() - 3_600_000 });
    await pass();
    sim.addGuestCounters(101, { netin: 1000 });
    await pass();
    expect(currentUsage(db, "web-101")?.total.rxBytes).toBe(6000);
    // Power cycle: by the next reading the new process has counted 8000, more than the old one's 6000.
    await act("qm-stop", { vmid: 101 });
    await act("qm-start", { vmid: 101 });
    sim.addGuestCounters(101, { netin: 8000 });
    await pass();
    expect(currentUsage(db, "web-101")?.total.rxBytes).toBe(6000 + 8000);
    // Live migration: more traffic on pve1 first, then the process on pve2 counts from zero.
    sim.addGuestCounters(101, { netin: 500 });
    await pass();
    // The operator migrates it in Proxmox (BlockHost follows moves; it does not make them).
    const moved = Bun.spawnSync([
      sim.pveshPath,
      "create",
      "/nodes/pve1/qemu/101/migrate",
      "--target",
      "pve2",
      "--online",
      "1",
    ]);
    expect(moved.exitCode).toBe(0);
    expect(sim.vm(101)?.node).toBe("pve2");
    sim.addGuestCounters(101, { netin: 700 });
    await pass();
    expect(currentUsage(db, "web-101")).toMatchObject({ instance: "pve2", total: { rxBytes: 14_000 + 500 + 700 } });
    db.close();
  });
});

const virsh = (...args: string[]) =>
  Bun.spawnSync(["virsh", "-q", "-c", "qemu:///system", ...args], { stderr: "pipe" });
const libvirtUsable = process.getuid?.() === 0 && virsh("uri").exitCode === 0;

describe.skipIf(!libvirtUsable)("libvirt: virsh-domstats of a real running domain", () => {
  const suffix = `${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const ours = `bhusage-${suffix}`;
  // qemu runs as libvirt-qemu: the disk's directory must be traversable (libvirt chowns the file itself).
  const images = join(root, "images");
  const disk = join(images, `tiny-${suffix}.img`);

  // No kernel, no OS: SeaBIOS reads the blank disk's boot sector, finds nothing to boot and idles.
  const xml = (name: string) => `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${disk}'/><target dev='vda' bus='virtio'/><readonly/></disk>
    <interface type='ethernet'><target dev='bhu${suffix.slice(-10)}' managed='yes'/><model type='virtio'/></interface>
    <memballoon model='virtio'/></devices></domain>`;

  beforeAll(() => {
    mkdirSync(images, { mode: 0o711 });
    chmodSync(root, 0o711);
    writeFileSync(disk, Buffer.alloc(1024 * 1024));
    // Ours: the agent-made VM directory exists (what domainIsOurs checks).
    mkdirSync(join(paths.vmsDir, ours), { recursive: true, mode: 0o711 });
    const file = join(root, `${ours}.xml`);
    writeFileSync(file, xml(ours));
    const r = virsh("create", file);
    if (r.exitCode !== 0) throw new Error(`virsh create ${ours}: ${r.stderr.toString()}`);
  });
  afterAll(() => {
    virsh("destroy", ours);
    rmSync(disk, { force: true });
  });

  test("one call; only our domain; CPU time, disk reads, NIC, balloon and the QEMU process as marker", async () => {
    // The firmware has read the boot sector once the domain has run a moment; wait on that, not a fixed time.
    let readings: Awaited<ReturnType<typeof libvirtReadings>> = [];
    const vms = [{ name: ours, vmid: 100, ipv6: null }];
    for (let i = 0; i < 100; i++) {
      readings = await libvirtReadings(agentOf(act), vms, Date.now());
      if ((readings[0]?.raw.readBytes ?? 0) > 0) break;
      await Bun.sleep(100);
    }
    expect(readings.map((r) => r.vmName)).toEqual([ours]);
    const r = readings[0]!;
    expect(r.raw.cpuNs).toBeGreaterThan(0);
    expect(r.raw.readBytes).toBeGreaterThanOrEqual(512);
    expect(r.raw.writeBytes).toBe(0);
    expect(r.memMaxBytes).toBe(32 * 1024 * 1024);
    expect(r.memUsedBytes).toBeGreaterThan(0);
    const pid = Bun.file(`/run/libvirt/qemu/${ours}.pid`);
    expect(r.instance).toStartWith(`${(await pid.text()).trim()}:`);
    // The raw answer names no other domain, whatever else runs on this host; and a running domain
    // without the agent's VM directory is not ours, even when the engine asks for it by name.
    const names = async () => ((await act("virsh-domstats", {})) as { domains: Array<{ name: string }> }).domains;
    expect((await names()).map((d) => d.name)).toEqual([ours]);
    rmSync(join(paths.vmsDir, ours), { recursive: true });
    expect(await names()).toEqual([]);
    expect(await libvirtReadings(agentOf(act), vms, Date.now())).toEqual([]);
  });
});
