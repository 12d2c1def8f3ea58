/** `blockhost vm create`: plan, or apply with --apply. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { printJson } from "../core/output.ts";
import type { VmRecord } from "../core/state/vms.ts";
import { intOption, newVmNameArg, walletArg, expiryArg } from "./cli-args.ts";
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
  meta: { name: "create", description: "Create a VM (prints the plan; --apply creates it)" },
  args: {
    name: { type: "positional", description: "VM name", required: true },
    "owner-wallet": { type: "string", description: "wallet that owns the VM (GECOS wallet=)", valueHint: "0x…" },
    "expires-at": { type: "string", description: "absolute expiry (ISO-8601)", valueHint: "ISO" },
    "expiry-days": {
      type: "string",
      description: "expiry N days from now (default: db.yaml default_expiry_days)",
      valueHint: "N",
    },
    cpu: { type: "string", description: "cores (default 1)", valueHint: "N" },
    memory: { type: "string", description: "memory in MB (default 2048)", valueHint: "MB" },
    disk: { type: "string", description: "disk in GB (default 20)", valueHint: "GB" },
    username: { type: "string", description: "login user in the VM (default admin)", valueHint: "NAME" },
    apply: { type: "boolean", description: "create it (without: print the plan only)" },
    json: { type: "boolean", description: "print JSON: {applied, dry_run, plan, result}" },
  },
  async run({ args }) {
    const name = newVmNameArg(args.name);
    const ownerWallet = walletArg(args["owner-wallet"]);
    const username = args.username ?? "admin";
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(username))
      throw new BlockhostError("E_USAGE", `--username: expected a Linux user name, got ${JSON.stringify(username)}`);
    const p = openProvisioner();
    const req: CreateRequest = {
      name,
      ownerWallet,
      username,
      subscriptionId: null,
      purpose: "",
      expiresAt: expiryArg(args["expires-at"], args["expiry-days"], p.dbConfig.default_expiry_days),
      cpu: intOption(args.cpu, "cpu", 1, 128, 1),
      memoryMb: intOption(args.memory, "memory", 64, 1_048_576, 2048),
      diskGb: intOption(args.disk, "disk", 1, 65_536, 20),
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
