/** `blockhost vm`: create, resume, destroy, start, stop, status, list, usage. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { readTextInput } from "../core/input.ts";
import { createCommand } from "./vm-create-command.ts";
import { openProvisioner } from "./context.ts";
import { expiryChoice, vmNameArg } from "./cli-args.ts";
import { getVm } from "../core/state/vms.ts";
import { runVmAction } from "../engine/vm-run.ts";
import type { PowerOp } from "../engine/vm-requests.ts";
import { resumeVm } from "./lifecycle.ts";
import { chooseOs } from "./os.ts";
import { importVms } from "./legacy-json.ts";
import { vmReadCommands } from "./vm-read-command.ts";
import { usageCommand } from "./vm-usage-command.ts";

const nameArg = {
  name: {
    type: "positional",
    description: "Name of the VM (see blockhost vm list)",
    required: true,
    valueHint: "NAME",
  },
} as const;
const out = (line: string) => process.stdout.write(`${line}\n`);

const power = (name: string, op: PowerOp, description: string) =>
  defineCommand({
    meta: { name, description, examples: [`blockhost vm ${name} web1`] },
    args: nameArg,
    async run({ args }) {
      const vm = vmNameArg(args.name);
      const p = openProvisioner({ existing: true });
      await runVmAction(p, { vm, action: op, by: "cli" });
      out(`${name}: ${args.name}${p.backend.simulated ? " [dry-run backend: hypervisor not called]" : ""}`);
    },
  });

export default defineCommand({
  meta: {
    name: "vm",
    description: "Look at and manage VMs by hand (the engine does the same when subscriptions start and end)",
    examples: ["blockhost vm list", "blockhost vm status web1"],
  },
  subCommands: {
    create: createCommand,
    resume: defineCommand({
      meta: {
        name: "resume",
        description: "Start a suspended VM again and mark it active, optionally with a new expiry",
        examples: ["blockhost vm resume web1 --expiry-days 30"],
      },
      args: {
        ...nameArg,
        "expires-at": { type: "string", description: "New expiry as a date and time (ISO 8601)", valueHint: "TIME" },
        "expiry-days": { type: "string", description: "New expiry in DAYS from now", valueHint: "DAYS" },
      },
      async run({ args }) {
        const name = vmNameArg(args.name);
        const given = args["expires-at"] !== undefined || args["expiry-days"] !== undefined;
        const expiry = expiryChoice(args["expires-at"], args["expiry-days"]);
        const p = openProvisioner({ existing: true });
        const vm = await resumeVm(p, name, given ? expiry(p.dbConfig.default_expiry_days) : undefined);
        out(
          `resumed: ${vm.vm_name} (expires ${vm.expires_at})${p.backend.simulated ? " [dry-run backend: hypervisor not called]" : ""}`,
        );
      },
    }),
    destroy: defineCommand({
      meta: {
        name: "destroy",
        description: "Destroy a VM and its disk and free its IP addresses (a VM already gone is not an error)",
        examples: ["blockhost vm destroy web1"],
      },
      args: nameArg,
      async run({ args }) {
        const name = vmNameArg(args.name);
        const p = openProvisioner();
        const vm = getVm(p.db, name);
        const done = !!vm && vm.status !== "destroyed";
        if (done) await runVmAction(p, { vm: name, action: "destroy", by: "cli" });
        out(
          done
            ? `destroyed: ${args.name}${p.backend.simulated ? " [dry-run backend: hypervisor not called]" : ""}`
            : `already gone: ${args.name}`,
        );
      },
    }),
    start: power("start", "start", "Power a VM on (refused while it is suspended)"),
    stop: power("stop", "shutdown", "Shut a VM down cleanly (power it off if it does not stop in time)"),
    reboot: power("reboot", "reboot", "Restart a running VM cleanly (ACPI)"),
    kill: power("kill", "off", "Power a VM off at once, like pulling the plug"),
    reinstall: defineCommand({
      meta: {
        name: "reinstall",
        description:
          "Reinstall a VM from an OS template: same name, addresses, size, NFT and expiry; a fresh disk and SSH host keys",
        examples: ["blockhost vm reinstall web1 --os debian-13"],
      },
      args: {
        ...nameArg,
        os: {
          type: "string",
          description: "The OS to install (blockhost.yaml os:); default: the VM's current one",
          valueHint: "OS",
        },
      },
      async run({ args }) {
        const name = vmNameArg(args.name);
        const p = openProvisioner({ existing: true });
        const os = args.os === undefined ? undefined : chooseOs(p.offered, args.os);
        await runVmAction(p, { vm: name, action: "reinstall", by: "cli", ...(os ? { os } : {}) });
        out(
          `reinstalled: ${name}${os ? ` (${os})` : ""}${p.backend.simulated ? " [dry-run backend: hypervisor not called]" : ""}`,
        );
      },
    }),
    ...vmReadCommands,
    usage: usageCommand,
    "import-json": defineCommand({
      meta: {
        name: "import-json",
        description: "Add the VMs of a vms.json file (or of `vm list --json`) to the database; known names are skipped",
        examples: ["blockhost vm import-json /root/vms.json", "blockhost vm list --json | blockhost vm import-json -"],
      },
      args: {
        file: {
          type: "positional",
          description: "The vms.json file, or - to read standard input",
          required: true,
          valueHint: "FILE",
        },
      },
      async run({ args }) {
        const text = await readTextInput(args.file, "VM database", 64 << 20);
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch (e) {
          throw new BlockhostError("E_INVALID_INPUT", `${args.file}: not valid JSON (${(e as Error).message})`);
        }
        const r = importVms(openProvisioner(), data, args.file);
        out(
          `imported ${r.imported.length} VM(s)${r.skipped.length ? `, skipped ${r.skipped.length} existing: ${r.skipped.join(", ")}` : ""}`,
        );
      },
    }),
  },
});
