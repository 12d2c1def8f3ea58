/**
 * Agent actions that bind a libvirt VM's bridge port to its MAC and addresses (nftables bridge
 * rules). Each binding is recorded in a root-only directory, so a sync after a reboot restores
 * every port; each change is one `nft -f` transaction (rules on stdin, never argv).
 */
import { lstatSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { array, object, refine, str } from "../../core/schema.ts";
import { ipv4, ipv6, vmid } from "../../core/validators.ts";
import {
  bindPort,
  guardBase,
  type PortBinding,
  PORT_RE,
  PVE_PORT_RE,
  unbindPort,
  vmPortName,
} from "../port-guard/rules.ts";
import { domain as domainName, mac } from "./libvirt.ts";
import type { ActionContext } from "./types.ts";
import { defineAction } from "./types.ts";

/** A global or unique-local unicast address: a VM's link-local one is derived from its MAC. */
const vmIpv6 = refine(ipv6, "a global or unique-local IPv6 address", (a) =>
  /^(?:[23][0-9a-f]{3}|f[cd][0-9a-f]{2}):/i.test(a),
);

/** Proxmox gives a clone's NIC a random unicast MAC (BC:24:11:… by default), not QEMU's 52:54:00 range. */
const unicastMac = str(/^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$/, "a unicast MAC like bc:24:11:5e:00:01", 17);

const bindingSchema = object({
  port: refine(
    str(/^[a-z0-9]{1,15}$/, "a BlockHost VM port name", 15),
    "a BlockHost VM port name",
    (p) => PORT_RE.test(p) || PVE_PORT_RE.test(p),
  ),
  mac: unicastMac,
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
    .filter((n) => /^(?:bhv[0-9a-f]{12}|tap\d{3,9}i0)\.json$/.test(n))
    .map((n) => bindingSchema.parse(JSON.parse(readFileSync(join(paths.portGuardDir, n), "utf8")), n));
}

const nft = (ctx: Pick<ActionContext, "run">, commands: string[]) =>
  ctx.run("nft", ["-f", "-"], { stdin: `${[...guardBase(), ...commands].join("\n")}\n` });

/** Bind VM `name`'s port (named by `vmPortName`) to its MAC, IPv4 and IPv6 addresses; idempotent. */
export const portGuardSet = defineAction({
  name: "port-guard-set",
  params: object({ name: domainName, mac, ipv4: array(ipv4, 0, 4), ipv6: array(vmIpv6, 0, 8) }),
  timeoutMs: 30_000,
  handler: (p, ctx) => bind(ctx, { port: vmPortName(p.name), mac: p.mac, ipv4: p.ipv4, ipv6: p.ipv6 }),
});

/** Record `binding` (root-only) and apply it in one nft transaction. */
async function bind(ctx: ActionContext, binding: PortBinding): Promise<{ port: string }> {
  ensureDirUnder(paths.root, paths.portGuardDir, 0o700);
  writeFileAtomic(recordFile(binding.port), JSON.stringify(binding), { mode: 0o600 });
  await nft(ctx, bindPort(binding));
  return { port: binding.port };
}

async function unbind(ctx: ActionContext, port: string): Promise<{ removed: boolean }> {
  const file = recordFile(port);
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new BlockhostError("E_STATE", `${file} is not a regular file`);
  await nft(ctx, unbindPort(port));
  if (st) unlinkSync(file);
  return { removed: Boolean(st) };
}

/** Remove VM `name`'s binding (its port then drops everything until it is gone); absent is `{removed: false}`. */
export const portGuardClear = defineAction({
  name: "port-guard-clear",
  params: object({ name: domainName }),
  timeoutMs: 30_000,
  handler: (p, ctx) => unbind(ctx, vmPortName(p.name)),
});

/**
 * The same binding for a Proxmox VM's `tap<vmid>i0` on this node. The PVE firewall filters source
 * addresses and ARP, but not the target of a neighbour advertisement (docs/security/network.md).
 */
export const pvePortGuardSet = defineAction({
  name: "pve-port-guard-set",
  params: object({ vmid, mac: unicastMac, ipv4: array(ipv4, 0, 4), ipv6: array(vmIpv6, 0, 8) }),
  timeoutMs: 30_000,
  handler: (p, ctx) => bind(ctx, { port: `tap${p.vmid}i0`, mac: p.mac.toLowerCase(), ipv4: p.ipv4, ipv6: p.ipv6 }),
});

/**
 * Remove a Proxmox VM's binding (at destroy); absent is `{removed: false}` without touching
 * nftables (the record is written before the rules and removed after them).
 */
export const pvePortGuardClear = defineAction({
  name: "pve-port-guard-clear",
  params: object({ vmid }),
  timeoutMs: 30_000,
  handler: async (p, ctx) => {
    const port = `tap${p.vmid}i0`;
    if (!lstatSync(recordFile(port), { throwIfNoEntry: false })) return { removed: false };
    return unbind(ctx, port);
  },
});

/** Bind every recorded port again (before a VM starts after a reboot: an unbound port drops everything). */
export const portGuardSync = defineAction({
  name: "port-guard-sync",
  params: object({}),
  timeoutMs: 30_000,
  handler: async (_p, ctx) => {
    const bindings = readBindings();
    await nft(ctx, bindings.flatMap(bindPort));
    return { ports: bindings.length };
  },
});

/**
 * At the agent's start, before it serves anyone: bind every recorded port again, so after a host
 * reboot or an agent restart a running VM's port is guarded without waiting for a VM start. A root
 * with no recorded port (a Proxmox host, a fresh install) leaves nftables alone.
 */
export async function syncPortGuardAtStart(run: ActionContext["run"]): Promise<number> {
  const bindings = readBindings();
  if (bindings.length) await nft({ run }, bindings.flatMap(bindPort));
  return bindings.length;
}
