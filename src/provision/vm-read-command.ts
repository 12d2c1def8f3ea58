/** `blockhost vm status` and `vm list`: what the database and the hypervisor say, without changing either. */
import { defineCommand } from "citty";
import { addressArg } from "../core/address.ts";
import { loadBlockhostConfig, loadDbConfig } from "../core/config/index.ts";
import { BlockhostError, oneLine } from "../core/errors.ts";
import { printJson, printTable } from "../core/output.ts";
import { openExistingDatabase } from "../core/state/db.ts";
import { getVm, listVms, type VmRecord, type VmStatus } from "../core/state/vms.ts";
import { selectBackend } from "./backends/index.ts";
import { vmNameArg } from "./cli-args.ts";
import { toLegacyRecord } from "./legacy-json.ts";
import { ref } from "./lifecycle.ts";

const STATUSES: VmStatus[] = ["creating", "active", "suspended", "destroyed"];

/** `vm status --json`. */
export interface VmStatusReport {
  vm_name: string;
  vmid: number;
  backend: string;
  /** The database's state: creating, active, suspended or destroyed. */
  status: VmStatus;
  expires_at: string;
  /** The hypervisor's: running, stopped, paused, missing; null when not asked (destroyed, dry-run) or unreachable. */
  power: string | null;
  /** Why `power` is null. */
  power_note: string | null;
  /** The Proxmox cluster node as last recorded (the reconciler keeps it current); null on a single host. */
  node: string | null;
}

async function powerOf(vm: VmRecord): Promise<{ power: string | null; power_note: string | null }> {
  if (vm.status === "destroyed") return { power: null, power_note: "not asked: the VM is destroyed" };
  try {
    const backend = selectBackend(loadBlockhostConfig(), undefined, loadDbConfig().ipv6_pool?.ndp_proxy_dev);
    const power = backend.powerState ? await backend.powerState(ref(vm)) : null;
    return power === null
      ? { power, power_note: `not asked: the ${backend.name} backend does not call a hypervisor` }
      : { power, power_note: null };
  } catch (e) {
    return { power: null, power_note: `hypervisor not reachable: ${oneLine(e)}` };
  }
}

const status = defineCommand({
  meta: {
    name: "status",
    description: "Show a VM's state and whether it is running on the hypervisor (exit 1: no such VM)",
    examples: ["blockhost vm status web1", "blockhost vm status web1 --json"],
  },
  args: {
    name: {
      type: "positional",
      description: "Name of the VM (see blockhost vm list)",
      required: true,
      valueHint: "NAME",
    },
    json: {
      type: "boolean",
      description: "Print JSON: name, VMID, backend, state, expiry and the hypervisor's power state",
    },
  },
  async run({ args }) {
    const name = vmNameArg(args.name);
    const db = openExistingDatabase();
    let vm: VmRecord | null;
    try {
      vm = getVm(db, name);
    } finally {
      db.close();
    }
    if (!vm) throw new BlockhostError("E_NOT_FOUND", `no VM named ${JSON.stringify(name)} (see: blockhost vm list)`);
    const report: VmStatusReport = {
      vm_name: vm.vm_name,
      vmid: vm.vmid,
      backend: vm.backend,
      status: vm.status,
      expires_at: vm.expires_at,
      ...(await powerOf(vm)),
      node: vm.node,
    };
    if (args.json) return printJson(report);
    const where = report.node ? ` (node ${report.node})` : "";
    process.stdout.write(`${report.status}, hypervisor: ${report.power ?? `unknown (${report.power_note})`}${where}\n`);
  },
});

const list = defineCommand({
  meta: {
    name: "list",
    description: "List the VMs with state, IP addresses and expiry",
    examples: ["blockhost vm list", "blockhost vm list --status active --json"],
  },
  args: {
    status: { type: "string", description: `Only VMs in this state (${STATUSES.join(", ")})`, valueHint: "STATE" },
    owner: { type: "string", description: "Only VMs owned by this wallet", valueHint: "WALLET" },
    json: { type: "boolean", description: "Print JSON (the field names of the vms.json file older versions kept)" },
  },
  run({ args }) {
    if (args.status !== undefined && !STATUSES.includes(args.status as VmStatus))
      throw new BlockhostError(
        "E_USAGE",
        `--status: expected one of ${STATUSES.join(", ")}, got ${JSON.stringify(args.status)}`,
      );
    const owner = args.owner === undefined ? undefined : addressArg(args.owner, "--owner").toLowerCase();
    const db = openExistingDatabase();
    let vms: VmRecord[];
    try {
      vms = listVms(db, args.status as VmStatus | undefined).filter(
        (vm) => owner === undefined || (vm.wallet_address ?? vm.owner_wallet ?? "").toLowerCase() === owner,
      );
    } finally {
      db.close();
    }
    if (args.json) return printJson(vms.map(toLegacyRecord));
    printTable(
      ["NAME", "STATUS", "VMID", "IP", "IPV6", "OWNER", "EXPIRES"],
      vms.map((vm) => [
        vm.vm_name,
        vm.status,
        vm.vmid,
        vm.ip_address,
        vm.ipv6_address,
        vm.wallet_address ?? vm.owner_wallet,
        vm.expires_at,
      ]),
    );
  },
});

export const vmReadCommands = { status, list };
