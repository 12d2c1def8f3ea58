/** `blockhost vm`: create, resume, destroy, start, stop, status, list. */
import { defineCommand } from "citty";
import { BlockhostError } from "../core/errors.ts";
import { readTextInput } from "../core/input.ts";
import { createCommand } from "./create-command.ts";
import { openProvisioner } from "./context.ts";
import { vmNameArg, expiryArg } from "./cli-args.ts";
import { destroyVm, powerVm, resumeVm } from "./lifecycle.ts";
import { importVms } from "./legacy-json.ts";
import { vmReadCommands } from "./read-commands.ts";

const nameArg = { name: { type: "positional", description: "VM name", required: true } } as const;
const out = (line: string) => process.stdout.write(`${line}\n`);

const power = (op: "start" | "stop" | "kill", description: string) =>
  defineCommand({
    meta: { name: op, description },
    args: nameArg,
    async run({ args }) {
      await powerVm(openProvisioner(), vmNameArg(args.name), op);
      out(`${op}: ${args.name}`);
    },
  });

export default defineCommand({
  meta: { name: "vm", description: "Create and manage VMs by hand (the engine calls the same code)" },
  subCommands: {
    create: createCommand,
    resume: defineCommand({
      meta: { name: "resume", description: "Start a suspended VM and mark it active" },
      args: {
        ...nameArg,
        "expires-at": { type: "string", description: "new absolute expiry (ISO-8601)", valueHint: "ISO" },
        "expiry-days": { type: "string", description: "new expiry N days from now", valueHint: "N" },
      },
      async run({ args }) {
        const p = openProvisioner();
        const name = vmNameArg(args.name);
        const given = args["expires-at"] !== undefined || args["expiry-days"] !== undefined;
        const vm = await resumeVm(
          p,
          name,
          given ? expiryArg(args["expires-at"], args["expiry-days"], p.dbConfig.default_expiry_days) : undefined,
        );
        out(
          `resumed: ${vm.vm_name} (expires ${vm.expires_at})${p.backend.simulated ? " [dry-run backend: hypervisor not called]" : ""}`,
        );
      },
    }),
    destroy: defineCommand({
      meta: { name: "destroy", description: "Destroy a VM and release its addresses (idempotent)" },
      args: nameArg,
      async run({ args }) {
        const p = openProvisioner();
        const done = await destroyVm(p, vmNameArg(args.name));
        out(
          done
            ? `destroyed: ${args.name}${p.backend.simulated ? " [dry-run backend: hypervisor not called]" : ""}`
            : `already gone: ${args.name}`,
        );
      },
    }),
    start: power("start", "Power a VM on"),
    stop: power("stop", "Shut a VM down gracefully (hard stop if that fails)"),
    kill: power("kill", "Power a VM off immediately"),
    ...vmReadCommands,
    "import-json": defineCommand({
      meta: {
        name: "import-json",
        description: "Import a legacy vms.json (or a `vm list --json` export); existing names are skipped",
      },
      args: { file: { type: "positional", description: "vms.json path, or - for stdin", required: true } },
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
