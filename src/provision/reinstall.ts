/** Reinstall: the same VM (name, VMID, addresses, size, NFT, expiry) on a fresh disk from an OS template. */
import { iso, now } from "../core/clock.ts";
import { BlockhostError } from "../core/errors.ts";
import { requireVm, updateVm, type VmRecord } from "../core/state/vms.ts";
import type { VmSpec } from "./backends/index.ts";
import type { Provisioner } from "./context.ts";
import { allocationOf, freshCloudInit, keepingAddress } from "./create.ts";
import type { Placement } from "./backends/types.ts";
import type { OsId } from "../core/template/os.ts";
import { ref } from "./lifecycle.ts";
import { chooseOs } from "./os.ts";

/**
 * Tear the VM down on the hypervisor (addresses and the row stay) and build it again from the
 * chosen template with new cloud-init: a new instance-id and VM secret, so first boot runs again
 * and makes new SSH host keys; the user keeps the holder's wallet and NFT in GECOS, and the NFT's
 * sealed details (address, user name) still hold. A failure leaves the VM without a disk and the
 * job dead: running it again (admin retry) starts from the teardown, which tolerates what is gone.
 */
export async function reinstallVm(p: Provisioner, name: string, osId: string): Promise<VmRecord> {
  const vm = requireVm(p.db, name);
  if (vm.status !== "active")
    throw new BlockhostError("E_STATE", `${name} is ${vm.status}; only an active VM is reinstalled`);
  const os = chooseOs(p.offered, osId || String(vm.extra.os ?? ""));
  // On a cluster the fresh VM is placed again: only on a node where its IPv4 address still works.
  const placement = await p.backend.preflight?.({
    diskGb: vm.disk_gb,
    os,
    ...(vm.ip_address ? { keepAddress: keepingAddress(p, vm.ip_address) } : {}),
  });
  try {
    return await rebuild(p, vm, os, placement);
  } finally {
    placement?.release();
  }
}

async function rebuild(p: Provisioner, vm: VmRecord, os: OsId, placement?: Placement): Promise<VmRecord> {
  const name = vm.vm_name;
  const allocation = allocationOf(p, vm);
  const stamp = Date.now().toString(36);
  const spec: VmSpec = {
    name,
    vmid: vm.vmid,
    ipv6: vm.ipv6_address,
    cpu: vm.cpu,
    memoryMb: vm.memory_mb,
    diskGb: vm.disk_gb,
    allocation,
    cloudInit: freshCloudInit(p, {
      name,
      username: vm.username,
      walletAddress: vm.owner_wallet ?? vm.wallet_address ?? "",
      nftTokenId: vm.nft_token_id,
      allocation,
    }),
    os,
    instanceId: `${name}-${vm.vmid}-r${stamp}`,
    ...(placement ? { placement } : {}),
  };
  updateVm(p.db, name, { extra: { ...vm.extra, reinstalling: { os, since: iso(now()) } } });
  p.say(`reinstalling ${name} from the ${os} template`);
  await p.backend.destroy(ref(vm), p.say);
  const result = await p.backend.create(spec, p.say);
  const { reinstalling: _done, ...extra } = requireVm(p.db, name).extra;
  updateVm(p.db, name, {
    gecos_synced: false,
    extra: { ...extra, os, reinstalled_at: iso(now()) },
    // On a Proxmox cluster the fresh VM is placed again, maybe on another node.
    ...(result?.node ? { node: result.node } : {}),
  });
  return requireVm(p.db, name);
}
