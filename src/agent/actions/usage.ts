/**
 * Agent actions: one usage reading of every BlockHost VM in one hypervisor call per pass. No VM
 * names from the caller: the agent reads all running domains/guests and answers only for its own
 * (libvirt: domainIsOurs, the agent-made VM directory; Proxmox: VMIDs in BlockHost's range).
 */
import { readFileSync } from "node:fs";
import { domainIsOurs, vmidScope } from "../scope.ts";
import { pveshGet } from "../pve-api.ts";
import { object } from "../../core/schema.ts";
import { PVE_NODE_RE } from "../../core/validators.ts";
import { defineAction } from "./types.ts";

/** One domain's counters from `virsh domstats` (bytes, ns), summed over its NICs and disks. */
export interface DomainUsage {
  name: string;
  /** `pid:starttime` of the domain's QEMU process ("" when it cannot be read): another value = counters restarted. */
  instance: string;
  cpuNs: number;
  rxBytes: number;
  txBytes: number;
  readBytes: number;
  writeBytes: number;
  /** Guest-reported used memory when the balloon driver reports it, else QEMU's RSS; and the current allocation. */
  memUsedBytes: number;
  memMaxBytes: number;
}

const DOMAIN_LINE = /^Domain: '([^']*)'$/;
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const KIB = 1024;

/**
 * Parse `virsh domstats --cpu-total --balloon --block --interface` (libvirt's key=value lines under
 * a `Domain: 'name'` header). Interface rx/tx are from the guest's side (libvirt swaps the tap's).
 */
export function parseDomstats(text: string): Omit<DomainUsage, "instance">[] {
  const out: Omit<DomainUsage, "instance">[] = [];
  let kv: Map<string, number> | null = null;
  let name = "";
  const flush = () => {
    if (!kv || !NAME_RE.test(name)) return;
    const get = (k: string) => kv?.get(k) ?? 0;
    const sum = (group: "net" | "block", field: string) => {
      let total = 0;
      for (let i = 0; i < get(`${group}.count`); i++) total += get(`${group}.${i}.${field}`);
      return total;
    };
    const available = kv.get("balloon.available");
    const unused = kv.get("balloon.unused");
    const current = get("balloon.current") * KIB;
    const used =
      available !== undefined && unused !== undefined ? (available - unused) * KIB : get("balloon.rss") * KIB;
    out.push({
      name,
      cpuNs: get("cpu.time"),
      rxBytes: sum("net", "rx.bytes"),
      txBytes: sum("net", "tx.bytes"),
      readBytes: sum("block", "rd.bytes"),
      writeBytes: sum("block", "wr.bytes"),
      memUsedBytes: Math.max(0, current > 0 ? Math.min(used, current) : used),
      memMaxBytes: current,
    });
  };
  for (const line of text.split("\n")) {
    const header = DOMAIN_LINE.exec(line.trim());
    if (header) {
      flush();
      name = header[1] ?? "";
      kv = new Map();
      continue;
    }
    const eq = line.indexOf("=");
    if (!kv || eq < 0) continue;
    const v = Number(line.slice(eq + 1));
    if (Number.isFinite(v)) kv.set(line.slice(0, eq).trim(), v);
  }
  flush();
  return out;
}

/** libvirt's run directory for QEMU domains (the pid file of each running domain). */
const LIBVIRT_QEMU_RUN = "/run/libvirt/qemu";

/** `pid:starttime` (field 22 of /proc/pid/stat) of the domain's QEMU process: unique per process start. */
export function qemuInstance(name: string, runDir = LIBVIRT_QEMU_RUN): string {
  try {
    const pid = readFileSync(`${runDir}/${name}.pid`, "utf8").trim();
    if (!/^\d{1,10}$/.test(pid)) return "";
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses: fields are counted after its closing one.
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return start ? `${pid}:${start}` : "";
  } catch {
    return "";
  }
}

/** Usage of every running BlockHost libvirt domain, from one `virsh domstats` call. */
export const virshDomstats = defineAction({
  name: "virsh-domstats",
  params: object({}),
  timeoutMs: 120_000,
  handler: async (_p, ctx) => {
    const argv = ["-q", "-c", "qemu:///system", "domstats", "--list-active"];
    // About 1.6 kB per domain: 16 MiB holds several thousand.
    const { stdout } = await ctx.run("virsh", [...argv, "--cpu-total", "--balloon", "--block", "--interface"], {
      outputCap: 16 * 1024 * 1024,
    });
    const domains: DomainUsage[] = parseDomstats(stdout)
      .filter((d) => domainIsOurs(d.name))
      .map((d) => ({ ...d, instance: qemuInstance(d.name) }));
    return { domains };
  },
});

/** One running QEMU guest's counters from `/cluster/resources` (pve-manager API2Tools extract_vm_stats). */
export interface GuestUsage {
  vmid: number;
  node: string;
  uptime: number;
  /** CPU in use as a fraction of `maxcpu` CPUs. */
  cpu: number;
  maxcpu: number;
  mem: number;
  maxmem: number;
  /** Cumulative bytes since the guest's QEMU process started; netin is what the guest received. */
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** Running QEMU guests of `/cluster/resources` whose VMID is BlockHost's (in `vmid_range`, not a template). */
export function reduceGuestUsage(data: unknown, range: { start: number; end: number } | undefined): GuestUsage[] {
  if (!Array.isArray(data) || !range) return [];
  const out: GuestUsage[] = [];
  for (const r of data as Record<string, unknown>[]) {
    if (typeof r !== "object" || r === null || r.type !== "qemu" || r.status !== "running") continue;
    const vmid = r.vmid;
    if (typeof vmid !== "number" || !Number.isSafeInteger(vmid) || vmid < range.start || vmid > range.end) continue;
    if (r.template === 1 || typeof r.node !== "string" || !PVE_NODE_RE.test(r.node)) continue;
    out.push({
      vmid,
      node: r.node,
      uptime: num(r.uptime),
      cpu: num(r.cpu),
      maxcpu: num(r.maxcpu),
      mem: num(r.mem),
      maxmem: num(r.maxmem),
      netin: num(r.netin),
      netout: num(r.netout),
      diskread: num(r.diskread),
      diskwrite: num(r.diskwrite),
    });
  }
  return out;
}

/** Usage of every running BlockHost guest in the cluster, from one `pvesh get /cluster/resources --type vm`. */
export const pveGuestUsage = defineAction({
  name: "pve-guest-usage",
  params: object({}),
  timeoutMs: 60_000,
  handler: async (_p, ctx) => ({
    guests: reduceGuestUsage(await pveshGet(ctx, "/cluster/resources", ["--type", "vm"]), vmidScope().range),
  }),
});
