/** Doctor checks on the host: agent, hypervisor and template, services, disk, address and VMID pools. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentClient } from "../agent/client.ts";
import { loadBlockhostConfig, loadDbConfig } from "../core/config/index.ts";
import { diskSpace } from "../core/disk-space.ts";
import { oneLine } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { openExistingDatabase } from "../core/state/db.ts";
import { checkLibvirtHost } from "../provision/backends/libvirt-check.ts";
import { checkProxmoxTemplate } from "../provision/backends/proxmox-template.ts";
import { freeCapacity } from "../web/public/capacity.ts";
import { type CheckResult, fail, ok, skip } from "./check.ts";

const AGENT_FIX = "systemctl start blockhost-agent.socket (journalctl -u blockhost-agent says why it stopped)";

export async function agentCheck(agent: AgentClient): Promise<CheckResult> {
  try {
    await agent.ping();
    return ok("agent", `answers on ${agent.socketPath}`);
  } catch (e) {
    return fail("agent", oneLine(e), AGENT_FIX);
  }
}

/** The configured hypervisor answers and has its template (through the agent, as the engine would). */
export async function backendCheck(agent: AgentClient, agentUp: boolean): Promise<CheckResult> {
  const name = "backend";
  let cfg: ReturnType<typeof loadBlockhostConfig>;
  try {
    cfg = loadBlockhostConfig();
  } catch {
    return skip(name, `${paths.blockhostConfig} does not load (see above)`);
  }
  if (cfg.backend === "dry-run") return ok(name, "dry-run: no hypervisor is called, nothing to reach");
  if (!agentUp) return skip(name, `${cfg.backend}: the agent does not answer, so the hypervisor cannot be asked`);
  try {
    if (cfg.backend === "proxmox" && cfg.proxmox) {
      const vmid = cfg.proxmox.template_vmid ?? 9001;
      // On a cluster the template may live on another node: asked there through the cluster API.
      const node = cfg.proxmox.cluster
        ? (await agent.call("pve-cluster-resources", {})).vms.find((v) => v.vmid === vmid)?.node
        : undefined;
      const problems = await checkProxmoxTemplate(agent, { templateVmid: vmid, bridge: cfg.proxmox.bridge, node });
      return problems.length === 0
        ? ok(name, `proxmox: template VMID ${vmid} ready`)
        : fail(name, `proxmox: ${problems.join("; ")}`, "blockhost proxmox template import (see its --help)");
    }
    if (cfg.backend === "libvirt" && cfg.libvirt) {
      const template = cfg.libvirt.template ?? join(paths.templatesDir, "blockhost-template.qcow2");
      const r = await checkLibvirtHost(agent, { bridge: cfg.libvirt.bridge, network: cfg.libvirt.network, template });
      const problems = r.lines.filter((l) => l.startsWith("problem: ")).map((l) => l.slice(9));
      return r.ok
        ? ok(name, `libvirt: ${r.lines.join("; ")}`)
        : fail(name, `libvirt: ${problems.join("; ")}`, "start libvirtd and its network; blockhost template build");
    }
    return fail(name, `backend ${cfg.backend} has no settings section`, `add ${cfg.backend}: to blockhost.yaml`);
  } catch (e) {
    return fail(name, `${cfg.backend}: ${oneLine(e)}`, AGENT_FIX);
  }
}

const UNITS = ["blockhost-agent.socket", "blockhost-engine.service", "blockhost-serve.service"];

/** systemd's view of the units; without systemd as PID 1 (containers, CI) this cannot be known. */
export async function serviceChecks(): Promise<CheckResult[]> {
  let init = "";
  try {
    init = readFileSync("/proc/1/comm", "utf8").trim();
  } catch {
    init = "unknown";
  }
  if (init !== "systemd" || !existsSync("/run/systemd/system"))
    return [skip("services", `unknown: systemd is not PID 1 here (PID 1 is ${init}), unit states cannot be read`)];
  return await Promise.all(
    UNITS.map(async (unit) => {
      const p = Bun.spawn(["/usr/bin/systemctl", "is-active", unit], { stdout: "pipe", stderr: "ignore" });
      const state = (await new Response(p.stdout).text()).trim();
      await p.exited;
      return state === "active"
        ? ok(`service ${unit}`, "active")
        : fail(`service ${unit}`, state || "unknown", `systemctl enable --now ${unit}; journalctl -u ${unit}`);
    }),
  );
}

/** Below this much free space on a filesystem BlockHost writes to, a check fails. */
export const MIN_FREE_BYTES = 2 * 1024 ** 3;
const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;

export function diskChecks(minFree = MIN_FREE_BYTES): CheckResult[] {
  const spaces = new Map<string, { free: number; total: number }>();
  for (const path of [paths.stateDir, paths.libvirtDir]) {
    const space = diskSpace(path);
    if (space) spaces.set(space.dir, space);
  }
  return [...spaces].map(([dir, { free, total }]) => {
    const detail = `${gib(free)} free of ${gib(total)}`;
    return free >= minFree
      ? ok(`disk ${dir}`, detail)
      : fail(`disk ${dir}`, `${detail} (needs ≥ ${gib(minFree)})`, "free space or grow the filesystem");
  });
}

/** VMIDs and addresses left in db.yaml's pools (0 left: the next purchase cannot be served). */
export function poolChecks(): CheckResult[] {
  let cfg: ReturnType<typeof loadDbConfig>;
  try {
    cfg = loadDbConfig();
  } catch {
    return [skip("pools", `${paths.dbConfig} does not load (see above)`)];
  }
  let db: ReturnType<typeof openExistingDatabase>;
  try {
    db = openExistingDatabase();
  } catch (e) {
    return [fail("database", oneLine(e), "run the setup wizard, or blockhost finalize --config FILE")];
  }
  try {
    const c = freeCapacity(db, cfg);
    const line = (name: string, left: number, key: string) =>
      left > 0 ? ok(name, `${left} left`) : fail(name, "none left: the next purchase cannot be served", `widen ${key}`);
    return [
      ok("database", paths.database),
      line("pool vmid", c.vmids_left, `vmid_range in ${paths.dbConfig}`),
      line("pool ipv4", c.ipv4_left, `ip_pool in ${paths.dbConfig}`),
      ...(c.ipv6_left === null ? [] : [line("pool ipv6", c.ipv6_left, "the IPv6 prefix")]),
    ];
  } finally {
    db.close();
  }
}
