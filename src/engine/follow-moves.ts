/** Follow VMs that Proxmox moved (HA recovery, migration, rebalancing): the record names their node now. */
import { iso, now } from "../core/clock.ts";
import { logEvent } from "../core/log.ts";
import { listVms, updateVm } from "../core/state/vms.ts";
import type { Provisioner } from "../provision/context.ts";
import { ipv4PoolOn } from "../provision/create.ts";
import { poolHolds } from "../core/config/network.ts";

export interface MoveReport {
  moved: Array<{ vm_name: string; from: string | null; to: string }>;
  /** Live VMs the cluster has on no node: flagged (extra.unplaced_since), never destroyed here. */
  unplaced: string[];
  /** VMs now on a node whose own IPv4 pool does not hold their address (flagged: extra.address_foreign). */
  foreign: string[];
}

/**
 * One look at the cluster (`/cluster/resources`): every live VM's record gets the node that holds
 * it; a VM on no node is flagged so `blockhost status` shows it, and nothing is done to it.
 * A single host (no cluster) has nothing to follow.
 */
export async function followMoves(p: Pick<Provisioner, "db" | "backend" | "dbConfig">): Promise<MoveReport> {
  const report: MoveReport = { moved: [], unplaced: [], foreign: [] };
  const where = p.backend.locateAll ? await p.backend.locateAll() : null;
  if (!where) return report;
  for (const vm of listVms(p.db)) {
    if (vm.status !== "active" && vm.status !== "suspended") continue;
    const node = where.get(vm.vmid);
    if (node === undefined) {
      report.unplaced.push(vm.vm_name);
      if (!vm.extra.unplaced_since) {
        updateVm(p.db, vm.vm_name, { extra: { ...vm.extra, unplaced_since: iso(now()) } });
        logEvent("engine.vm_unplaced", { vm: vm.vm_name, vmid: vm.vmid, last_node: vm.node });
      }
      continue;
    }
    const { unplaced_since: _gone, address_foreign: _foreign, ...extra } = vm.extra;
    // A node with its own IPv4 pool is its own segment: a VM moved there keeps an address that does not route.
    const foreign = vm.ip_address && !poolHolds(ipv4PoolOn(p, node), vm.ip_address) ? node : undefined;
    if (foreign) report.foreign.push(vm.vm_name);
    if (node !== vm.node || _gone !== undefined || foreign !== _foreign) {
      updateVm(p.db, vm.vm_name, { node, extra: { ...extra, ...(foreign ? { address_foreign: foreign } : {}) } });
      if (node !== vm.node) {
        report.moved.push({ vm_name: vm.vm_name, from: vm.node, to: node });
        logEvent("engine.vm_moved", { vm: vm.vm_name, vmid: vm.vmid, from: vm.node, to: node });
      }
      if (foreign && foreign !== _foreign)
        logEvent("engine.vm_address_foreign", { vm: vm.vm_name, vmid: vm.vmid, node, address: vm.ip_address });
    }
  }
  return report;
}
