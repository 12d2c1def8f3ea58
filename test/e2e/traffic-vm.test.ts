// Traffic quotas on a real libvirt VM under TCG: counting, the throttle, restarts and the reset day.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RATE_TABLE } from "../../src/agent/port-guard/rate-rules.ts";
import { vmPortName } from "../../src/agent/port-guard/rules.ts";
import { getTrafficRow } from "../../src/core/state/traffic.ts";
import { openDatabase } from "../../src/core/state/db.ts";
import { TrafficDuty } from "../../src/engine/traffic/duty.ts";
import { samplePass } from "../../src/engine/usage-duty.ts";
import { requireVm } from "../../src/core/state/vms.ts";
import { openProvisioner, type Provisioner } from "../../src/provision/context.ts";
import { applyCreate } from "../../src/provision/create.ts";
import { ref } from "../../src/provision/lifecycle.ts";
import { totalTrafficBytes } from "../../src/provision/traffic-status.ts";
import { startAgent, type RunningAgent } from "../helpers/agent.ts";
import {
  cachedTemplate,
  ensureLibvirtd,
  installTemplate,
  libvirtUnavailable,
  TEMPLATE_CACHE,
  virshOut,
} from "../helpers/libvirt-host.ts";
import { provisionRoot } from "../helpers/provision-root.ts";

setDefaultTimeout(30 * 60_000); // TCG on a shared 2-core machine: a first boot can take many minutes

const unavailable = libvirtUnavailable();
if (unavailable) console.log(`skip: libvirt traffic test: ${unavailable}`);

// Names of our own: other VM tests may run beside this one on the same libvirtd.
const tag = process.pid % 100_000;
const NET = `bhtraffic-${tag}`;
const BRIDGE = `bhtf${tag}`;
const NAME = `bhtraffic-${tag}`;
const octet = 16 + (process.pid % 200);
const GW = `10.219.${octet}.1`;
const QUOTA_BYTES = 50_000_000;
const THROTTLE_MBIT = 4;
const PLAN_MBIT = 400;

/** A TCP listener on the test network's gateway that counts what each connection delivered, with timings. */
function listen() {
  const conns: Array<{ bytes: number; marks: Array<[number, number]>; done: Promise<void> }> = [];
  let resolveNext: ((c: (typeof conns)[number]) => void) | null = null;
  const server = Bun.listen<{ c: (typeof conns)[number]; end: () => void }>({
    hostname: GW,
    port: 0,
    socket: {
      open(s) {
        let end = () => {};
        const c = { bytes: 0, marks: [] as Array<[number, number]>, done: new Promise<void>((r) => (end = r)) };
        s.data = { c, end };
        conns.push(c);
        resolveNext?.(c);
      },
      data(s, chunk) {
        s.data.c.bytes += chunk.length;
        s.data.c.marks.push([performance.now(), s.data.c.bytes]);
      },
      close(s) {
        s.data?.end();
      },
    },
  });
  return {
    port: server.port,
    stop: () => server.stop(true),
    next: () => new Promise<(typeof conns)[number]>((r) => (resolveNext = r)),
  };
}

/** Bytes per second after the first `skip` bytes (tc's burst lets the first second's worth through at once). */
function steadyRate(marks: Array<[number, number]>, skip: number): number {
  const from = marks.find(([, b]) => b >= skip);
  const last = marks.at(-1);
  if (!from || !last || last[0] <= from[0]) return Number.NaN;
  return ((last[1] - from[1]) * 1000) / (last[0] - from[0]);
}

describe.skipIf(Boolean(unavailable))("traffic quota on a libvirt VM", () => {
  let daemons: { stop: () => void };
  let root: { root: string; cleanup: () => void };
  let agent: RunningAgent;
  let p: Provisioner;
  let db: Database;
  let listener: ReturnType<typeof listen>;
  const savedRoot = process.env.BLOCKHOST_ROOT;
  const figures: Record<string, number> = {};
  const duty = (clock: () => number = Date.now, database: Database = db) =>
    new TrafficDuty({ db: database, backend: p.backend, plans: p.plans ?? {}, intervalMs: 0, clock });
  const sample = () => samplePass(db, p.backend, Date.now());
  /** Push `bytes` from the guest to the listener (bash's /dev/tcp, as root through the guest agent). */
  const push = async (bytes: number) => {
    const conn = listener.next();
    const r = await p.backend.guestExec(vm(), [
      "/bin/bash",
      "-c",
      `head -c ${bytes} /dev/zero > /dev/tcp/${GW}/${listener.port}`,
    ]);
    if (r.exitcode !== 0) throw new Error(`push from the guest failed (${r.exitcode}): ${r.stderr.trim()}`);
    const c = await conn;
    await c.done;
    return c;
  };
  /** The rate cap on the VM's port (nftables), both ways, in bytes per second. */
  const cap = () => {
    const port = vmPortName(NAME);
    const r = Bun.spawnSync(["/usr/sbin/nft", "list", "table", "bridge", RATE_TABLE], { stdout: "pipe" });
    const rates = [`from_${port}`, `to_${port}`].map(
      (chain) =>
        new RegExp(`chain ${chain} \\{\\s*limit rate over (\\d+) bytes/second`).exec(r.stdout.toString())?.[1] ??
        "none",
    );
    return rates[0] === rates[1] ? rates[0] : rates.join("/");
  };
  const vm = () => ref(requireVm(db, NAME));

  beforeAll(async () => {
    daemons = await ensureLibvirtd();
    const template = await cachedTemplate();
    // Jumbo frames: the counters see link-layer bytes (headers included), the listener payload only.
    const xml = join(TEMPLATE_CACHE, `net-${NET}.xml`);
    mkdirSync(TEMPLATE_CACHE, { recursive: true });
    writeFileSync(
      xml,
      `<network><name>${NET}</name><bridge name='${BRIDGE}' stp='off' delay='0'/><mtu size='9000'/><dns enable='no'/>` +
        `<ip address='${GW}' netmask='255.255.255.0'/></network>\n`,
    );
    virshOut("net-destroy", NET);
    const made = virshOut("net-create", xml);
    if (made.code !== 0) throw new Error(`virsh net-create: ${made.out}`);
    root = provisionRoot({
      backend: "libvirt",
      ipPool: `{network: '10.219.${octet}.0/24', start: 10, end: 20, gateway: '${GW}'}`,
      extraBlockhostYaml: [
        `libvirt: {bridge: ${BRIDGE}, network: ${NET}, accel: auto, guest_agent_timeout_s: 1800}`,
        `plans: {"7": {cpu: 1, memory_mb: 768, disk_gb: 4, traffic_gb_month: ${QUOTA_BYTES / 1e9}, rate_mbit: ${PLAN_MBIT}, overage: throttle, throttled_mbit: ${THROTTLE_MBIT}}}`,
      ].join("\n"),
    });
    chmodSync(root.root, 0o755);
    installTemplate(root.root, template.image);
    agent = await startAgent({ root: root.root });
    process.env.BLOCKHOST_ROOT = root.root;
    p = openProvisioner({ say: (l) => console.log(`  ${l}`) });
    db = p.db;
    listener = listen();
    await applyCreate(p, {
      name: NAME,
      ownerWallet: "0x000000000000000000000000000000000000dEaD",
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
      cpu: 1,
      memoryMb: 768,
      diskGb: 4,
      username: "admin",
      subscriptionId: null,
      purpose: "traffic test",
      planId: 7,
    });
    // The guest agent answers before the guest's network is up: wait until it reaches the listener.
    const probe = listen();
    try {
      for (let i = 0; ; i++) {
        const r = await p.backend.guestExec(vm(), ["/bin/bash", "-c", `exec 3<>/dev/tcp/${GW}/${probe.port}`]);
        if (r.exitcode === 0) break;
        if (i > 300) throw new Error(`the guest cannot reach ${GW}: ${r.stderr.trim()}`);
        await Bun.sleep(2000);
      }
    } finally {
      probe.stop();
    }
    await sample();
  });

  afterAll(async () => {
    listener?.stop();
    if (virshOut("domstate", NAME).code === 0) {
      virshOut("destroy", NAME);
      virshOut("undefine", NAME);
    }
    // The cap's nftables chains outlive the domain: lift them (only this VM's port).
    await agent?.client.call("nic-rate-set", { name: NAME, bytes_per_s: 0 }).catch(() => {});
    await agent?.stop();
    virshOut("net-destroy", NET);
    root?.cleanup();
    daemons?.stop();
    if (savedRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = savedRoot;
    console.log(`traffic figures: ${JSON.stringify(figures)}`);
  });

  test("the plan's rate is in the domain's definition; 30 MB pushed by the guest are counted within 2 %", async () => {
    expect(cap()).toBe(String(PLAN_MBIT * 125_000));
    const before = totalTrafficBytes(db, NAME);
    const c = await push(30_000_000);
    await sample();
    const counted = totalTrafficBytes(db, NAME) - before;
    figures.received = c.bytes;
    figures.counted = counted;
    figures.errorPct = ((counted - c.bytes) / c.bytes) * 100;
    expect(c.bytes).toBe(30_000_000);
    expect(Math.abs(counted - c.bytes) / c.bytes).toBeLessThan(0.02);
    // Under the quota: nothing applied.
    expect((await duty().pass()).applied).toEqual([]);
  });

  test("past the 50 MB quota the duty throttles the NIC; the measured rate then stays under the cap", async () => {
    await push(25_000_000);
    await sample();
    const r = await duty().pass();
    expect(r.applied).toEqual([{ vm: NAME, state: "throttled", usedBytes: expect.any(Number) }]);
    expect(getTrafficRow(db, NAME)?.state).toBe("throttled");
    const capBytes = THROTTLE_MBIT * 125_000;
    expect(cap()).toBe(String(capBytes));
    const c = await push(8_000_000);
    expect(c.bytes).toBe(8_000_000);
    // A token bucket (nftables `limit`, burst = one second's worth, as libvirt's own default) passes at
    // most rate × T + burst in any window T: the policer's bound, checked past the first megabyte.
    const from = c.marks.find(([, b]) => b >= 1_000_000)!;
    const last = c.marks.at(-1)!;
    const seconds = (last[0] - from[0]) / 1000;
    expect(last[1] - from[1]).toBeLessThanOrEqual(capBytes * seconds + capBytes);
    figures.throttledMbit = (steadyRate(c.marks, 1_000_000) * 8) / 1e6;
    figures.throttledWholeMbit = (c.bytes * 8) / 1e6 / ((last[0] - c.marks[0]![0]) / 1000);
  });

  test("an engine restart neither lifts the throttle nor counts anything twice", async () => {
    await sample();
    const reopened = openDatabase();
    try {
      const used = totalTrafficBytes(reopened, NAME) - getTrafficRow(reopened, NAME)!.baseline_bytes;
      expect((await duty(Date.now, reopened).pass()).applied).toEqual([]);
      expect(getTrafficRow(reopened, NAME)?.state).toBe("throttled");
      expect(totalTrafficBytes(reopened, NAME) - getTrafficRow(reopened, NAME)!.baseline_bytes).toBe(used);
    } finally {
      reopened.close();
    }
    expect(cap()).toBe(String(THROTTLE_MBIT * 125_000));
  });

  test("on the reset day the plan's rate comes back", async () => {
    const resetAt = (() => {
      const row = getTrafficRow(db, NAME)!;
      const d = new Date(row.anchor_at);
      d.setUTCMonth(d.getUTCMonth() + 1);
      return d.getTime();
    })();
    const r = await duty(() => resetAt + 1000).pass();
    expect(r.applied).toEqual([{ vm: NAME, state: "normal", usedBytes: 0 }]);
    expect(getTrafficRow(db, NAME)?.period_start).toBe(resetAt);
    expect(cap()).toBe(String(PLAN_MBIT * 125_000));
    const c = await push(4_000_000);
    const rate = steadyRate(c.marks, 1_000_000);
    figures.restoredMbit = (rate * 8) / 1e6;
    expect(rate * 8).toBeGreaterThan(2 * THROTTLE_MBIT * 1e6);
  });

  test("a power cycle: the counters go on from where they were and the new tap keeps the cap", async () => {
    await sample();
    const before = totalTrafficBytes(db, NAME);
    await p.backend.kill(vm(), () => {});
    await p.backend.start(vm(), () => {});
    await p.backend.restoreNetwork(vm(), () => {});
    // The new QEMU process starts its counters at 0: the monotonic total goes on from `before`.
    await sample();
    expect(totalTrafficBytes(db, NAME)).toBeGreaterThanOrEqual(before);
    expect(totalTrafficBytes(db, NAME) - before).toBeLessThan(1_000_000);
    // The cap is keyed on the port's fixed name, not on the tap libvirt created.
    expect(cap()).toBe(String(PLAN_MBIT * 125_000));
    expect((await duty().pass()).applied).toEqual([]);
  });
});
