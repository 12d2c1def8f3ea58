/**
 * Agent actions that bind a libvirt VM's bridge port to its MAC and addresses (nftables bridge
 * rules). Each binding is recorded in a root-only directory and the whole table is rebuilt from
 * those records in one `nft -f` transaction, so a restart or a reboot loses nothing that a sync
 * cannot restore.
 */
import { lstatSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { array, object, refine, str } from "../../core/schema.ts";
import { ipv4, ipv6, VM_NAME_RE } from "../../core/validators.ts";
import { guardRuleset, type PortBinding, PORT_RE, vmPortName } from "../port-guard/rules.ts";
import type { ActionContext } from "./types.ts";
import { defineAction } from "./types.ts";

const domainName = refine(
  str(VM_NAME_RE, "a VM name (letters, digits, . _ -; ≤64)", 64),
  "a VM name with at least one letter",
  (v) => /[a-zA-Z]/.test(v),
);
/** The MACs BlockHost gives libvirt VMs (QEMU's prefix, see allocate.ts macForVmid). */
const mac = str(/^52:54:00(:[0-9a-f]{2}){3}$/, "a QEMU MAC 52:54:00:xx:xx:xx (lower case)", 17);
/** A global or unique-local unicast address: a VM's link-local one is derived from its MAC. */
const vmIpv6 = refine(ipv6, "a global or unique-local IPv6 address", (a) =>
  /^(?:[23][0-9a-f]{3}|f[cd][0-9a-f]{2}):/i.test(a),
);

const bindingSchema = object({
  port: str(PORT_RE, "a BlockHost VM port name", 15),
  mac,
  ipv4: array(ipv4, 0, 4),
  ipv6: array(vmIpv6, 0, 8),
});

const recordFile = (port: string) => join(paths.portGuardDir, `${port}.json`);

function readBindings(): PortBinding[] {
  let names: string[];
  try {
    names = readdirSync(paths.portGuardDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return names
    .filter((n) => /^bhv[0-9a-f]{12}\.json$/.test(n))
    .map((n) => bindingSchema.parse(JSON.parse(readFileSync(join(paths.portGuardDir, n), "utf8")), n));
}

/** Rebuild the nftables table from the records (stdin, never argv). */
async function sync(ctx: ActionContext): Promise<number> {
  const bindings = readBindings();
  await ctx.run("nft", ["-f", "-"], { stdin: guardRuleset(bindings) });
  return bindings.length;
}

/** Bind VM `name`'s port (named by `vmPortName`) to its MAC, IPv4 and IPv6 addresses; idempotent. */
export const portGuardSet = defineAction({
  name: "port-guard-set",
  params: object({ name: domainName, mac, ipv4: array(ipv4, 0, 4), ipv6: array(vmIpv6, 0, 8) }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const port = vmPortName(p.name);
    ensureDirUnder(paths.root, paths.portGuardDir, 0o700);
    const binding: PortBinding = { port, mac: p.mac, ipv4: p.ipv4, ipv6: p.ipv6 };
    writeFileAtomic(recordFile(port), JSON.stringify(binding), { mode: 0o600 });
    return { port, ports: await sync(ctx) };
  },
});

/** Remove VM `name`'s binding (its port then drops everything until it is gone); absent is `{removed: false}`. */
export const portGuardClear = defineAction({
  name: "port-guard-clear",
  params: object({ name: domainName }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const file = recordFile(vmPortName(p.name));
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) throw new BlockhostError("E_STATE", `${file} is not a regular file`);
    if (st) unlinkSync(file);
    return { removed: Boolean(st), ports: await sync(ctx) };
  },
});

/** Load the table from the records (before a VM starts after a reboot: ports stay closed until bound). */
export const portGuardSync = defineAction({
  name: "port-guard-sync",
  params: object({}),
  timeoutMs: 30_000,
  handler: async (_p, ctx) => ({ ports: await sync(ctx) }),
});
