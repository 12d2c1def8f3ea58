/** Install and inspect the qm simulator. */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readCluster, writeCluster, type SimCluster } from "../fixtures/qm-sim/cluster.ts";
import { listVms, readVm, writeVm, type SimCounters, type SimVm } from "../fixtures/qm-sim/state.ts";
import { tempDir } from "./binary.ts";

export type { SimCluster, SimVm };

const SIMULATOR = join(import.meta.dir, "../fixtures/qm-sim/qm.ts");
const PVESH_SIMULATOR = join(import.meta.dir, "../fixtures/qm-sim/pvesh.ts");

/** A running Proxmox `qm` SIMULATOR: a wrapper script with its state dir baked in. */
export interface QmSimulator {
  /** Temp dir holding VM state and control files. */
  readonly stateDir: string;
  /**
   * Absolute path of an executable `qm` for the agent's binary table. It needs no environment
   * (the agent runs commands with a fixed one): the state dir and bun's path are hard-coded.
   */
  readonly qmPath: string;
  /** Absolute path of an executable `pvesh` over the same state (the cluster API). */
  readonly pveshPath: string;
  /** Nodes and storages (default: one node `pve` with local and local-lvm). */
  setCluster(cluster: SimCluster): void;
  cluster(): SimCluster;
  /** Move a VM's config to another node, as an HA recovery or a migration does (no API call). */
  moveVm(vmid: number, node: string): void;
  /** Every argv `pvesh` received, oldest first. */
  pveshCalls(): string[][];
  vm(vmid: number): SimVm | undefined;
  vms(): SimVm[];
  /** Put a VM in place directly (e.g. a template to clone from). */
  addVm(vm: Partial<SimVm> & { vmid: number }): void;
  /** Every argv `qm` received, oldest first. */
  calls(): string[][];
  /**
   * The guest of a running VM did this much (bytes added to netin/netout/diskread/diskwrite); `cpu`
   * and `mem`, when given, replace the current figures.
   */
  addGuestCounters(vmid: number, delta: Partial<SimCounters>): void;
  /**
   * The next `qm <subcommand>`'s task fails with `message` (subcommand like "clone" or "guest-exec"),
   * reported as qm does: exit 255, but exit 0 with only stderr for "resize" and "template".
   */
  failNext(subcommand: string, message?: string): void;
  /** What `qm guest exec` prints (qm's JSON), or undefined for the default echo. */
  setGuestExecResult(result: Record<string, unknown> | undefined): void;
  setGuestAgentDown(down: boolean): void;
  /** Every `qm resize` fails in its task, as on a full storage. */
  setStorageFull(full: boolean): void;
  cleanup(): void;
}

/** Create a simulator state dir and its `qm` wrapper. Reusable by any test that needs Proxmox. */
export function createQmSimulator(): QmSimulator {
  const { dir: stateDir, cleanup } = tempDir("qm-sim-");
  const qmPath = join(stateDir, "qm");
  writeFileSync(qmPath, `#!/bin/sh\nQM_SIM_STATE='${stateDir}' exec '${process.execPath}' '${SIMULATOR}' "$@"\n`);
  chmodSync(qmPath, 0o755);
  const pveshPath = join(stateDir, "pvesh");
  writeFileSync(
    pveshPath,
    `#!/bin/sh\nQM_SIM_STATE='${stateDir}' exec '${process.execPath}' '${PVESH_SIMULATOR}' "$@"\n`,
  );
  chmodSync(pveshPath, 0o755);
  const control = (name: string) => join(stateDir, name);
  const jsonLines = (file: string) =>
    existsSync(control(file))
      ? readFileSync(control(file), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];
  return {
    stateDir,
    qmPath,
    pveshPath,
    setCluster: (cluster) => writeCluster(stateDir, cluster),
    cluster: () => readCluster(stateDir),
    moveVm: (vmid, node) => {
      const vm = readVm(stateDir, vmid);
      if (!vm) throw new Error(`qm-sim: no VM ${vmid} to move`);
      writeVm(stateDir, { ...vm, node });
    },
    pveshCalls: () => jsonLines("pvesh-calls.jsonl"),
    vm: (vmid) => readVm(stateDir, vmid),
    vms: () => listVms(stateDir),
    addVm: (vm) => writeVm(stateDir, { name: `vm${vm.vmid}`, status: "stopped", template: false, config: {}, ...vm }),
    calls: () => jsonLines("calls.jsonl"),
    addGuestCounters: (vmid, d) => {
      const vm = readVm(stateDir, vmid);
      if (vm?.status !== "running") throw new Error(`qm-sim: VM ${vmid} is not running`);
      const c = vm.counters ?? { cpu: 0, mem: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0 };
      const counters: SimCounters = {
        cpu: d.cpu ?? c.cpu,
        mem: d.mem ?? c.mem,
        netin: c.netin + (d.netin ?? 0),
        netout: c.netout + (d.netout ?? 0),
        diskread: c.diskread + (d.diskread ?? 0),
        diskwrite: c.diskwrite + (d.diskwrite ?? 0),
      };
      writeVm(stateDir, { ...vm, counters });
    },
    failNext: (sub, message = "") => writeFileSync(control(`fail-${sub}`), message),
    setGuestExecResult: (result) =>
      result
        ? writeFileSync(control("guest-exec.json"), JSON.stringify(result, null, 3))
        : rmSync(control("guest-exec.json"), { force: true }),
    setGuestAgentDown: (down) =>
      down ? writeFileSync(control("guest-agent-down"), "") : rmSync(control("guest-agent-down"), { force: true }),
    setStorageFull: (full) =>
      full ? writeFileSync(control("storage-full"), "") : rmSync(control("storage-full"), { force: true }),
    cleanup,
  };
}
