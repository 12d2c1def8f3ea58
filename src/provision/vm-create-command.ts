/** `blockhost vm create`: plan, or apply with --apply. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { printJson } from "../core/output.ts";
import type { VmRecord } from "../core/state/vms.ts";
import { DEFAULT_OS, OS_IDS, parseOsId } from "../core/template/os.ts";
import { expiryChoice, intOption, newVmNameArg, walletArg } from "./cli-args.ts";
import { openProvisioner } from "./context.ts";
import { applyCreate, planCreate, type CreateRequest } from "./create.ts";

const out = (line: string) => process.stdout.write(`${line}\n`);

/** The created VM as `--json` (`result`) and the BLOCKHOST_RESULT line report it. */
const createResult = (vm: VmRecord) => ({
  status: "ok",
  vm_name: vm.vm_name,
  ip: vm.ip_address,
  ipv6: vm.ipv6_address,
  vmid: vm.vmid,
  nft_token_id: vm.nft_token_id,
  username: vm.username,
  backend: vm.backend,
});

/** `blockhost vm create`: without --apply, print the plan and change nothing. */
export const createCommand = defineCommand({
  meta: {
    name: "create",
    description: "Create a VM for a wallet by hand, outside any subscription (only shows the plan without --apply)",
    examples: [
      "blockhost vm create web1 --owner-wallet 0x52908400098527886E0F7030069857D2E4169EE7",
      "blockhost vm create web1 --owner-wallet 0x52908400098527886E0F7030069857D2E4169EE7 --expiry-days 30 --apply",
    ],
  },
  args: {
    name: {
      type: "positional",
      description: "Name of the new VM (also its host name)",
      required: true,
      valueHint: "NAME",
    },
    "owner-wallet": {
      type: "string",
      required: true,
      description: "Wallet that owns the VM: only its signature logs in over SSH",
      valueHint: "WALLET",
    },
    "expires-at": { type: "string", description: "Expiry as a date and time (ISO 8601)", valueHint: "TIME" },
    "expiry-days": {
      type: "string",
      description: "Expiry in DAYS from now (default: default_expiry_days in db.yaml)",
      valueHint: "DAYS",
    },
    cpu: { type: "string", description: "CPU cores (default 1)", valueHint: "COUNT" },
    memory: { type: "string", description: "Memory in MB (default 2048)", valueHint: "MB" },
    disk: { type: "string", description: "Disk size in GB (default 20)", valueHint: "GB" },
    username: { type: "string", description: "Linux user the owner logs in as (default admin)", valueHint: "USER" },
    os: {
      type: "string",
      description: `Operating system template: ${OS_IDS.join(" or ")} (default ${DEFAULT_OS})`,
      valueHint: "OS",
    },
    apply: { type: "boolean", description: "Create the VM (without it, only the plan is printed)" },
    json: { type: "boolean", description: "Print JSON: the plan and, with --apply, the created VM" },
  },
  async run({ args }) {
    const name = newVmNameArg(args.name);
    const ownerWallet = walletArg(args["owner-wallet"]);
    const username = args.username ?? "admin";
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(username))
      throw new BlockhostError("E_USAGE", `--username: expected a Linux user name, got ${JSON.stringify(username)}`);
    const expiry = expiryChoice(args["expires-at"], args["expiry-days"]);
    const cpu = intOption(args.cpu, "cpu", 1, 128, 1);
    const memoryMb = intOption(args.memory, "memory", 64, 1_048_576, 2048);
    const diskGb = intOption(args.disk, "disk", 1, 65_536, 20);
    // Every argument is checked before anything is opened: a usage error writes nothing.
    const p = openProvisioner();
    const req: CreateRequest = {
      name,
      ownerWallet,
      username,
      subscriptionId: null,
      purpose: "",
      expiresAt: expiry(p.dbConfig.default_expiry_days),
      cpu,
      memoryMb,
      diskGb,
      ...(args.os !== undefined ? { os: parseOsId(args.os) } : {}),
    };
    const plan = planCreate(p, req);
    const dryRun = p.backend.simulated;
    if (args.json) {
      const vm = args.apply ? await applyCreate(p, req) : null;
      return printJson({ applied: vm !== null, dry_run: dryRun, plan, result: vm && createResult(vm) });
    }
    const note = dryRun ? " (dry-run backend: the hypervisor is not called)" : "";
    out(`plan: create VM ${plan.vm_name}${note}`);
    out(`  vmid:      ${plan.vmid}`);
    out(`  ipv4:      ${plan.ip_address} (gateway ${plan.gateway})`);
    out(`  ipv6:      ${plan.ipv6_address ?? "none (no IPv6 prefix)"}`);
    out(`  size:      ${plan.cpu} CPU, ${plan.memory_mb} MB, ${plan.disk_gb} GB`);
    out(`  user:      ${plan.username} (wallet ${plan.owner_wallet})`);
    out(`  expires:   ${plan.expires_at}`);
    out(`  backend:   ${plan.backend}`);
    if (!args.apply) return out("nothing changed; add --apply to create it");
    const vm = await applyCreate(p, req);
    if (dryRun) out(`dry-run: ${vm.vm_name} recorded and rendered; no VM was started`);
    // The original's result line, kept for scripts written against it; --json is the documented form.
    out(`BLOCKHOST_RESULT: ${JSON.stringify(createResult(vm))}`);
  },
});
