/** Each backend's `sampleUsage`: one agent call per pass, mapped to raw readings (core/usage-counters.ts). */
import type { RawUsage } from "../../core/usage-counters.ts";
import type { AgentCaller } from "./types.ts";
import type { VmRef } from "./types.ts";

/** libvirt: `virsh domstats` of every running domain; the QEMU process (pid:starttime) marks restarts. */
export async function libvirtReadings(agent: AgentCaller, vms: readonly VmRef[], at: number): Promise<RawUsage[]> {
  const wanted = new Set(vms.map((v) => v.name));
  const { domains } = await agent.call("virsh-domstats", {});
  return domains
    .filter((d) => wanted.has(d.name))
    .map((d) => ({
      vmName: d.name,
      at,
      instance: d.instance,
      raw: { cpuNs: d.cpuNs, rxBytes: d.rxBytes, txBytes: d.txBytes, readBytes: d.readBytes, writeBytes: d.writeBytes },
      cpuCores: null,
      memUsedBytes: d.memUsedBytes,
      memMaxBytes: d.memMaxBytes,
    }));
}

/**
 * Proxmox: `/cluster/resources` of every running guest in the cluster. The node is the marker (a
 * migration starts a new QEMU process there) and the uptime dates the process; CPU is a rate.
 */
export async function proxmoxReadings(agent: AgentCaller, vms: readonly VmRef[], at: number): Promise<RawUsage[]> {
  const byVmid = new Map(vms.map((v) => [v.vmid, v.name]));
  const { guests } = await agent.call("pve-guest-usage", {});
  const out: RawUsage[] = [];
  for (const g of guests) {
    const vmName = byVmid.get(g.vmid);
    if (!vmName) continue;
    out.push({
      vmName,
      at,
      instance: g.node,
      uptimeS: g.uptime,
      raw: { cpuNs: 0, rxBytes: g.netin, txBytes: g.netout, readBytes: g.diskread, writeBytes: g.diskwrite },
      cpuCores: g.cpu * g.maxcpu,
      memUsedBytes: g.mem,
      memMaxBytes: g.maxmem,
    });
  }
  return out;
}

/**
 * dry-run: made-up but plausible counters (no hypervisor), so graphs, the CLI and the sampler's own
 * cost can be seen and measured. Each VM's rates swing around a VMID-dependent base over 6 hours;
 * the counters are their exact integrals since the "VM" last (re)started, every Monday 00:00 UTC.
 */
export function dryRunReadings(vms: readonly VmRef[], at: number): RawUsage[] {
  const period = 6 * 3_600_000;
  const week = 7 * 86_400_000;
  // 1970-01-05 was a Monday.
  const boot = at - ((at - 4 * 86_400_000) % week);
  const w = (2 * Math.PI) / period;
  const f = (t: number, phase: number) => t - (0.5 * Math.cos(w * t + phase)) / w;
  const integral = (base: number, phase: number) => Math.floor((base * (f(at - boot, phase) - f(0, phase))) / 1000);
  return vms.map((v) => {
    const k = 1 + (v.vmid % 7);
    const phase = v.vmid % 13;
    const memMax = 2 * 1024 ** 3;
    return {
      vmName: v.name,
      at,
      instance: `dry-run:${boot}`,
      raw: {
        cpuNs: integral(0.05 * k * 1e9, phase),
        rxBytes: integral(20_000 * k, phase + 1),
        txBytes: integral(8_000 * k, phase + 2),
        readBytes: integral(4_000 * k, phase + 3),
        writeBytes: integral(12_000 * k, phase + 4),
      },
      cpuCores: null,
      memUsedBytes: Math.floor(memMax * (0.35 + 0.1 * Math.sin(w * at + phase))),
      memMaxBytes: memMax,
    };
  });
}
