/** Create a VM: allocate, record, build through the backend, undo on failure. */
import { randomBytes } from "node:crypto";
import { BlockhostError } from "../core/errors.ts";
import { allocate, previewAllocation, type Allocation } from "./allocate.ts";
import type { VmSpec } from "./backends/index.ts";
import type { Placement } from "./backends/types.ts";
import { type CloudInit, renderCloudInit } from "./cloud-init.ts";
import { chooseOs } from "./os.ts";
import { iso, now } from "../core/clock.ts";
import type { Provisioner } from "./context.ts";
import { guestNameservers, type Ipv4Pool, ipv4Pool, ipv6Pool, poolHolds } from "../core/config/network.ts";
import { releaseAddresses, setNextVmid } from "../core/state/allocations.ts";
import type { OsId } from "../core/template/os.ts";
import { deleteCreatingVm, getVm, insertVm, updateVm, type VmRecord } from "../core/state/vms.ts";

/** A request to create one VM (validated by the caller: CLI flags or a chain event). */
export interface CreateRequest {
  name: string;
  ownerWallet: string;
  expiresAt: Date;
  cpu: number;
  memoryMb: number;
  diskGb: number;
  username: string;
  subscriptionId: number | null;
  purpose: string;
  /** The OS template to create from (one the host offers; its first when absent). */
  os?: OsId;
}

/** What a create would do, printed without --apply. */
export interface CreatePlan {
  vm_name: string;
  vmid: number;
  ip_address: string;
  ipv6_address: string | null;
  gateway: string;
  cpu: number;
  memory_mb: number;
  disk_gb: number;
  username: string;
  owner_wallet: string;
  expires_at: string;
  backend: string;
}

function refuseExisting(p: Provisioner, name: string): void {
  const existing = getVm(p.db, name);
  if (existing)
    throw new BlockhostError(
      "E_CONFLICT",
      `VM name ${JSON.stringify(name)} is already taken (status ${existing.status}); names are never reused`,
    );
}

/** The plan for `req`, reading the database but changing nothing. */
export function planCreate(p: Provisioner, req: CreateRequest): CreatePlan {
  refuseExisting(p, req.name);
  const a = previewAllocation(p.db, p.dbConfig);
  return {
    vm_name: req.name,
    vmid: a.vmid,
    ip_address: a.ipv4,
    ipv6_address: a.ipv6,
    gateway: a.gateway,
    cpu: req.cpu,
    memory_mb: req.memoryMb,
    disk_gb: req.diskGb,
    username: req.username,
    owner_wallet: req.ownerWallet,
    expires_at: iso(req.expiresAt),
    backend: p.backend.name,
  };
}

/**
 * On a Proxmox cluster a VMID may be taken by a guest BlockHost did not make (another tool, a
 * node that joined): such VMIDs in vmid_range are skipped (`/cluster/nextid --vmid N` says taken).
 */
const skipVmid = (db: Provisioner["db"], vmid: number) => setNextVmid(db, vmid + 1);

async function skipTakenVmids(p: Provisioner): Promise<void> {
  if (!p.backend.vmidFree) return;
  for (let tries = 0; tries < 1000; tries++) {
    const { vmid } = previewAllocation(p.db, p.dbConfig);
    if (await p.backend.vmidFree(vmid)) return;
    p.say(`VMID ${vmid} is taken in the Proxmox cluster; skipping it`);
    skipVmid(p.db, vmid);
  }
  throw new BlockhostError("E_STATE", "1000 VMIDs in a row are taken in the Proxmox cluster; check vmid_range");
}

/** The IPv4 pool of a node: its own (a cluster node on its own segment), else db.yaml's shared one. */
export const ipv4PoolOn = (p: Pick<Provisioner, "backend" | "dbConfig">, node: string | null | undefined): Ipv4Pool =>
  (node ? p.backend.ipv4PoolOf?.(node) : undefined) ?? ipv4Pool(p.dbConfig);

/** For a VM that keeps its address (reinstall): the nodes whose pool holds it. */
export const keepingAddress = (p: Pick<Provisioner, "backend" | "dbConfig">, address: string) => ({
  address,
  holds: (node: string, a: string) => poolHolds(ipv4PoolOn(p, node), a),
});

/** Rebuild the allocation of a VM row (for a retried create or a reinstall) from its addresses and the pools. */
export function allocationOf(p: Provisioner, vm: VmRecord): Allocation {
  const v4 = ipv4PoolOn(p, vm.node);
  const v6 = vm.ipv6_address ? ipv6Pool(p.dbConfig) : null;
  return {
    vmid: vm.vmid,
    ipv4: vm.ip_address ?? "",
    ipv4Host: 0,
    ipv4Bits: v4.bits,
    gateway: v4.gateway,
    ipv6: vm.ipv6_address,
    ipv6Host: null,
    ipv6Bits: v6?.bits ?? null,
    ipv6Gateway: v6?.gateway ?? null,
  };
}

/** A VM's cloud-init with a new VM secret (a create, or a reinstall that keeps the wallet and NFT). */
export function freshCloudInit(
  p: Provisioner,
  vm: { name: string; username: string; walletAddress: string; nftTokenId: number | null; allocation: Allocation },
): CloudInit {
  return renderCloudInit({
    ...vm,
    secretKey: randomBytes(32).toString("hex"),
    otpLength: p.auth.otpLength,
    otpTtlSeconds: p.auth.otpTtlSeconds,
    nameservers: guestNameservers(p.dbConfig),
  });
}

async function build(p: Provisioner, req: CreateRequest, a: Allocation, placement?: Placement): Promise<void> {
  const cloudInit = freshCloudInit(p, {
    name: req.name,
    username: req.username,
    walletAddress: req.ownerWallet,
    nftTokenId: null,
    allocation: a,
  });
  const spec: VmSpec = {
    name: req.name,
    vmid: a.vmid,
    ipv6: a.ipv6,
    cpu: req.cpu,
    memoryMb: req.memoryMb,
    diskGb: req.diskGb,
    allocation: a,
    cloudInit,
    os: chooseOs(p.offered, req.os),
    ...(placement ? { placement } : {}),
  };
  const result = await p.backend.create(spec, p.say);
  if (result?.node) updateVm(p.db, req.name, { node: result.node });
}

/**
 * Allocate (one transaction, row in state `creating`), render cloud-init, build the VM, mark it
 * active. If the backend fails, the row and its addresses are released (the VMID stays burnt).
 */
export async function applyCreate(p: Provisioner, req: CreateRequest): Promise<VmRecord> {
  refuseExisting(p, req.name);
  const os = chooseOs(p.offered, req.os);
  const placement = await p.backend.preflight?.({ diskGb: req.diskGb, memoryMb: req.memoryMb, os });
  try {
    return await createPlaced(p, req, os, placement);
  } finally {
    placement?.release();
  }
}

async function createPlaced(p: Provisioner, req: CreateRequest, os: OsId, placement?: Placement): Promise<VmRecord> {
  await skipTakenVmids(p);
  const created = iso(now());
  const a = allocate(
    p.db,
    p.dbConfig,
    req.name,
    (alloc) =>
      insertVm(p.db, {
        vm_name: req.name,
        vmid: alloc.vmid,
        backend: p.backend.name,
        status: "creating",
        ip_address: alloc.ipv4,
        ipv6_address: alloc.ipv6,
        owner: "admin",
        wallet_address: req.ownerWallet,
        owner_wallet: req.ownerWallet,
        username: req.username,
        purpose: req.purpose,
        network_mode: null,
        cpu: req.cpu,
        memory_mb: req.memoryMb,
        disk_gb: req.diskGb,
        subscription_id: req.subscriptionId,
        created_at: created,
        expires_at: iso(req.expiresAt),
        suspended_at: null,
        destroyed_at: null,
        nft_token_id: null,
        nft_minted: false,
        nft_minted_at: null,
        gecos_synced: false,
        network_config_synced: true,
        extra: { os },
      }),
    ipv4PoolOn(p, placement?.node),
  );
  try {
    await build(p, req, a, placement);
  } catch (e) {
    p.db.transaction(() => {
      releaseAddresses(p.db, req.name);
      deleteCreatingVm(p.db, req.name);
    })();
    throw e;
  }
  updateVm(p.db, req.name, { status: "active", gecos_synced: true });
  return getVm(p.db, req.name)!;
}

/**
 * Finish a create that a crash interrupted (row still `creating`): clear whatever the backend
 * may have half-built, then build again with the same VMID and addresses.
 */
export async function retryCreate(p: Provisioner, vm: VmRecord, req: CreateRequest): Promise<VmRecord> {
  if (vm.status !== "creating") return vm;
  await p.backend.destroy({ name: vm.vm_name, vmid: vm.vmid, ipv6: vm.ipv6_address }, p.say);
  await build(p, req, allocationOf(p, vm));
  updateVm(p.db, vm.vm_name, { status: "active", gecos_synced: true });
  return getVm(p.db, vm.vm_name)!;
}
