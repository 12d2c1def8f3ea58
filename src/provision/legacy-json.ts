/** Export and import the seed's vms.json format. */
import { isIPv4, isIPv6 } from "node:net";
import { BlockhostError } from "../core/errors.ts";
import { ipv4ToInt, VM_NAME_RE } from "../core/validators.ts";
import { bumpVmidCounter, reserveAddress } from "../core/state/allocations.ts";
import type { Provisioner } from "./context.ts";
import { ipv6ToBigInt } from "../core/ipv6.ts";
import { ipv6Pool } from "../core/config/network.ts";
import { getVm, insertVm, type VmRecord, type VmStatus } from "../core/state/vms.ts";

/** One VM in the seed's vms.json field names (engine fields such as subscription_id ride along, as in the original). */
export function toLegacyRecord(vm: VmRecord): Record<string, unknown> {
  return {
    ...vm.extra,
    vm_name: vm.vm_name,
    vmid: vm.vmid,
    ip_address: vm.ip_address,
    ipv6_address: vm.ipv6_address,
    status: vm.status,
    owner: vm.owner,
    wallet_address: vm.wallet_address,
    owner_wallet: vm.owner_wallet,
    username: vm.username,
    purpose: vm.purpose,
    network_mode: vm.network_mode,
    created_at: vm.created_at,
    expires_at: vm.expires_at,
    suspended_at: vm.suspended_at,
    destroyed_at: vm.destroyed_at,
    nft_token_id: vm.nft_token_id,
    nft_minted: vm.nft_minted,
    nft_minted_at: vm.nft_minted_at,
    gecos_synced: vm.gecos_synced,
    network_config_synced: vm.network_config_synced,
    subscription_id: vm.subscription_id,
    cpu: vm.cpu,
    memory_mb: vm.memory_mb,
    disk_gb: vm.disk_gb,
    backend: vm.backend,
  };
}

const KNOWN = new Set(Object.keys(toLegacyRecord({ extra: {} } as VmRecord)));
const STATUSES: VmStatus[] = ["active", "suspended", "destroyed"];

function bad(where: string, what: string): never {
  throw new BlockhostError("E_INVALID_INPUT", `${where}: ${what}`);
}

function textOrNull(r: Record<string, unknown>, k: string, where: string, re = /^[\x20-\x7e]{0,256}$/): string | null {
  const v = r[k];
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string" || !re.test(v)) bad(`${where}.${k}`, "expected short printable text");
  return v;
}

function isoOrNull(r: Record<string, unknown>, k: string, where: string): string | null {
  const v = textOrNull(r, k, where);
  if (v !== null && Number.isNaN(Date.parse(v))) bad(`${where}.${k}`, "expected an ISO-8601 time");
  return v === null
    ? null
    : new Date(Date.parse(v.endsWith("Z") || /[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`))
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z");
}

/**
 * Import a legacy vms.json (`{vms: {name: record}, next_vmid, …}`) or a `vm list --json` array.
 * Existing names are skipped; every live VM's addresses are marked taken; the VMID counter moves
 * past every imported VMID. All or nothing: one transaction.
 */
export function importVms(
  p: Pick<Provisioner, "db" | "dbConfig">,
  data: unknown,
  where = "vms.json",
): { imported: string[]; skipped: string[] } {
  const records: Array<[string, Record<string, unknown>]> = Array.isArray(data)
    ? data.map((r, i) => [String((r as Record<string, unknown>)?.vm_name ?? `#${i}`), r as Record<string, unknown>])
    : typeof data === "object" &&
        data !== null &&
        typeof (data as { vms?: unknown }).vms === "object" &&
        (data as { vms: unknown }).vms !== null
      ? Object.entries((data as { vms: Record<string, Record<string, unknown>> }).vms)
      : bad(where, 'expected {"vms": {…}} or a list of VM records');
  const nextVmid = (data as { next_vmid?: unknown }).next_vmid;
  const v6 = ipv6Pool(p.dbConfig);
  const result = { imported: [] as string[], skipped: [] as string[] };
  p.db.transaction(() => {
    for (const [key, r] of records) {
      const at = `${where}: vms.${key}`;
      if (typeof r !== "object" || r === null || Array.isArray(r)) bad(at, "expected an object");
      const name = (r.vm_name as string | undefined) ?? key;
      if (typeof name !== "string" || !VM_NAME_RE.test(name)) bad(`${at}.vm_name`, "expected a VM name");
      if (getVm(p.db, name)) {
        result.skipped.push(name);
        continue;
      }
      const status = r.status as VmStatus;
      if (!STATUSES.includes(status)) bad(`${at}.status`, "expected active, suspended or destroyed");
      const vmid = r.vmid;
      if (!Number.isSafeInteger(vmid) || (vmid as number) < 0) bad(`${at}.vmid`, "expected an integer");
      const ip = textOrNull(r, "ip_address", at);
      const ip6 = textOrNull(r, "ipv6_address", at);
      if (ip && !isIPv4(ip)) bad(`${at}.ip_address`, "expected an IPv4 address");
      if (ip6 && !isIPv6(ip6)) bad(`${at}.ipv6_address`, "expected an IPv6 address");
      const wallet = textOrNull(r, "wallet_address", at, /^[a-zA-Z0-9]{1,128}$/);
      const tokenId = r.nft_token_id === undefined || r.nft_token_id === null ? null : Number(r.nft_token_id);
      if (tokenId !== null && !Number.isSafeInteger(tokenId)) bad(`${at}.nft_token_id`, "expected an integer");
      const extra = Object.fromEntries(Object.entries(r).filter(([k]) => !KNOWN.has(k)));
      insertVm(p.db, {
        vm_name: name,
        vmid: vmid as number,
        backend: textOrNull(r, "backend", at) ?? "proxmox",
        status,
        ip_address: ip,
        ipv6_address: ip6,
        owner: textOrNull(r, "owner", at) ?? "admin",
        wallet_address: wallet,
        owner_wallet: textOrNull(r, "owner_wallet", at, /^[a-zA-Z0-9]{1,128}$/) ?? wallet,
        username: textOrNull(r, "username", at, /^[a-z_][a-z0-9_-]{0,31}$/) ?? "admin",
        purpose: textOrNull(r, "purpose", at) ?? "",
        network_mode: textOrNull(r, "network_mode", at),
        cpu: 1,
        memory_mb: 2048,
        disk_gb: 20,
        subscription_id: Number.isSafeInteger(r.subscription_id) ? (r.subscription_id as number) : null,
        created_at: isoOrNull(r, "created_at", at) ?? new Date(0).toISOString(),
        expires_at: isoOrNull(r, "expires_at", at) ?? new Date(0).toISOString(),
        suspended_at: isoOrNull(r, "suspended_at", at),
        destroyed_at: isoOrNull(r, "destroyed_at", at),
        nft_token_id: tokenId,
        nft_minted: r.nft_minted === true,
        nft_minted_at: isoOrNull(r, "nft_minted_at", at),
        gecos_synced: r.gecos_synced !== false,
        network_config_synced: r.network_config_synced !== false,
        extra,
      });
      if (status !== "destroyed") {
        if (ip) reserveAddress(p.db, 4, ip, ipv4ToInt(ip), name);
        if (ip6) {
          const offset = v6 ? ipv6ToBigInt(ip6) - v6.network : -1n;
          reserveAddress(p.db, 6, ip6, offset >= 0n && offset < 1n << 32n ? Number(offset) : -1, name);
        }
      }
      bumpVmidCounter(p.db, (vmid as number) + 1);
      result.imported.push(name);
    }
    if (Number.isSafeInteger(nextVmid)) bumpVmidCounter(p.db, nextVmid as number);
  })();
  return result;
}
