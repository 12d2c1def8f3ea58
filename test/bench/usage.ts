/**
 * Usage sampling cost: a 1,000-VM pass on the dry-run backend (engine CPU and wall time per pass,
 * share of one core at the 60 s default), and on libvirt the sampler's own CPU per VM per sample
 * (parsing `virsh domstats` and recording) beside the cost of one real `virsh domstats` call.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDomstats } from "../../src/agent/actions/usage.ts";
import { openDatabase } from "../../src/core/state/db.ts";
import { recordUsage } from "../../src/core/state/usage.ts";
import { insertVm } from "../../src/core/state/vms.ts";
import { samplePass } from "../../src/engine/usage-duty.ts";
import { DryRunBackend } from "../../src/provision/backends/dry-run.ts";
import type { BenchRow } from "./agent.ts";

const VMS = 1000;
const PASSES = 10;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

function vmRow(i: number) {
  return {
    vm_name: `bench-${i}`,
    vmid: 100 + i,
    backend: "dry-run",
    status: "active" as const,
    ip_address: null,
    ipv6_address: null,
    owner: "admin",
    wallet_address: null,
    owner_wallet: null,
    username: "admin",
    purpose: "",
    network_mode: null,
    cpu: 1,
    memory_mb: 2048,
    disk_gb: 20,
    subscription_id: i,
    created_at: "2026-01-01T00:00:00Z",
    expires_at: "2099-01-01T00:00:00Z",
    suspended_at: null,
    destroyed_at: null,
    nft_token_id: i,
    nft_minted: true,
    nft_minted_at: null,
    gecos_synced: true,
    network_config_synced: true,
  };
}

export async function benchUsage(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-usage-"));
  const db = openDatabase(join(dir, "blockhost.db"));
  try {
    db.transaction(() => {
      for (let i = 0; i < VMS; i++) insertVm(db, vmRow(i));
    })();
    const backend = new DryRunBackend();
    const t0 = Date.now();
    await samplePass(db, backend, t0); // first pass creates the counter rows; not timed
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let p = 1; p <= PASSES; p++) await samplePass(db, backend, t0 + p * 60_000);
    const cpu = cpuMs(process.cpuUsage(cpu0)) / PASSES;
    const wall = (performance.now() - wall0) / PASSES;
    const rows: BenchRow[] = [
      { name: `usage: ${VMS}-VM sampling pass, dry-run (engine CPU)`, value: cpu.toFixed(1), unit: "ms" },
      { name: `usage: ${VMS}-VM sampling pass, dry-run (wall)`, value: wall.toFixed(1), unit: "ms" },
      {
        name: "usage: share of one core at the 60 s interval, 1,000 VMs",
        value: ((cpu / 60_000) * 100).toFixed(3),
        unit: "%",
      },
    ];
    rows.push(...libvirtRows(db));
    return rows;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One real `virsh domstats` call (its CPU and wall time) and the sampler's CPU per VM on that output. */
function libvirtRows(db: ReturnType<typeof openDatabase>): BenchRow[] {
  const argv = ["virsh", "-q", "-c", "qemu:///system", "domstats", "--list-active"];
  const stats = ["--cpu-total", "--balloon", "--block", "--interface"];
  const start = performance.now();
  const r = Bun.spawnSync([...argv, ...stats], { stderr: "pipe" });
  const wall = performance.now() - start;
  const out = r.stdout.toString();
  const domains = parseDomstats(out);
  if (r.exitCode !== 0 || domains.length === 0)
    return [{ name: "usage: virsh domstats skipped: no libvirt or no running domain", value: "-", unit: "" }];
  const childCpu = r.resourceUsage ? Number(r.resourceUsage.cpuTime.total) / 1000 : Number.NaN;
  // The same output repeated for 1,000 domains: parse plus record, per VM.
  const block = out.slice(
    out.indexOf("Domain: '"),
    out.indexOf("Domain: '", 1) > 0 ? out.indexOf("Domain: '", 1) : undefined,
  );
  const body = block.slice(block.indexOf("\n"));
  const big = Array.from({ length: VMS }, (_, i) => `Domain: 'bench-${i}'${body}`).join("\n");
  const at = Date.now() + 3_600_000;
  const cpu0 = process.cpuUsage();
  for (let p = 0; p < PASSES; p++) {
    const parsed = parseDomstats(big);
    recordUsage(
      db,
      parsed.map((d) => ({
        vmName: d.name,
        at: at + p * 60_000,
        instance: "bench",
        raw: {
          cpuNs: d.cpuNs + p,
          rxBytes: d.rxBytes + p,
          txBytes: d.txBytes,
          readBytes: d.readBytes,
          writeBytes: d.writeBytes,
        },
        cpuCores: null,
        memUsedBytes: d.memUsedBytes,
        memMaxBytes: d.memMaxBytes,
      })),
    );
  }
  const perVmUs = (cpuMs(process.cpuUsage(cpu0)) * 1000) / (PASSES * VMS);
  return [
    {
      name: `usage: one virsh domstats call, ${domains.length} running domain(s) (wall)`,
      value: wall.toFixed(1),
      unit: "ms",
    },
    {
      name: `usage: one virsh domstats call, ${domains.length} running domain(s) (virsh CPU)`,
      value: childCpu.toFixed(1),
      unit: "ms",
    },
    {
      name: "usage: sampler CPU per VM per sample (parse + record, libvirt output)",
      value: perVmUs.toFixed(1),
      unit: "µs",
    },
  ];
}
