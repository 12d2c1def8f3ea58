/**
 * A Proxmox VM's own firewall file, `/etc/pve/firewall/<vmid>.fw`: the anti-spoofing filters of the
 * PVE firewall (macfilter, ipfilter with the VM's addresses) on its net0, traffic otherwise open as
 * before. The filters only run where the operator enabled the cluster firewall (docs/security/network.md).
 */
import { closeSync, constants, lstatSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { ensureDirUnder } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { array, object } from "../../core/schema.ts";
import { ipv4, ipv6, vmid } from "../../core/validators.ts";
import { defineAction } from "./types.ts";

const fwFile = (id: number) => join(paths.pveFirewallDir, `${id}.fw`);

/**
 * The file pve-firewall reads (option names and `[IPSET ipfilter-net0]` as PVE/Firewall.pm parses
 * them). `ipfilter` drops any source address outside the set (the MAC-derived link-local one is
 * added by PVE itself) and, through ebtables, ARP from any other sender address; `macfilter` drops
 * frames from any MAC but net0's; router advertisements out of the VM are dropped (`radv` unset).
 */
export function vmFirewallConfig(id: number, addresses: string[]): string {
  return [
    `# Written by BlockHost for VM ${id}: no address spoofing from net0. Rewritten at create, removed at destroy.`,
    "[OPTIONS]",
    "enable: 1",
    "macfilter: 1",
    "ipfilter: 1",
    "ndp: 1",
    "dhcp: 0",
    "policy_in: ACCEPT",
    "policy_out: ACCEPT",
    "",
    "[IPSET ipfilter-net0]",
    ...addresses,
    "",
  ].join("\n");
}

/**
 * Write atomically without chown/chmod: pmxcfs (/etc/pve) refuses owners other than root:www-data
 * and modes other than 0640, and gives every file those anyway.
 */
function writePveFile(file: string, content: string): void {
  const tmp = `${file}.tmp.${process.pid}`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o640);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Enable the PVE firewall's MAC and IP filters for VM `vmid` with its addresses (net0 needs `firewall=1`). */
export const pveFirewallWrite = defineAction({
  name: "pve-firewall-write",
  params: object({ vmid, ipv4: array(ipv4, 1, 4), ipv6: array(ipv6, 0, 8) }),
  timeoutMs: 30_000,
  handler: async (p) => {
    ensureDirUnder(paths.root, paths.pveFirewallDir);
    const file = fwFile(p.vmid);
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st && !st.isFile()) throw new BlockhostError("E_STATE", `${file} is not a regular file`);
    writePveFile(file, vmFirewallConfig(p.vmid, [...p.ipv4, ...p.ipv6]));
    return { path: file };
  },
});

/** Remove VM `vmid`'s firewall file (at destroy); absent is `{removed: false}`. */
export const pveFirewallDelete = defineAction({
  name: "pve-firewall-delete",
  params: object({ vmid }),
  timeoutMs: 30_000,
  handler: async (p) => {
    const file = fwFile(p.vmid);
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (!st) return { removed: false };
    if (!st.isFile()) throw new BlockhostError("E_STATE", `${file} is not a regular file`);
    unlinkSync(file);
    return { removed: true };
  },
});
