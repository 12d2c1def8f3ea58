import { expect, test } from "bun:test";
import { QM_OPTION_CHECKS } from "../../../src/agent/actions/qm-options.ts";
import { optionProblems } from "../../fixtures/qm-sim/pve-formats.ts";

/**
 * The agent's qm option allowlist against the simulator's independent model of PVE 8's formats:
 * whatever the allowlist accepts, PVE must accept too (else the create fails on the host, after
 * the VMID is spent); the values below are the ones pve-cloudinit-check.md ran through real qm.
 */
const PVE_REFUSES: Array<[string, string]> = [
  ["virtio0", "local-lvm:vm-100-disk-0,ssd=1"],
  ["net0", "virtio=BD:24:11:00:00:01,bridge=vmbr0"],
  ["net0", "virtio=01:00:5E:00:00:01,bridge=vmbr0"],
  ["ipconfig0", "ip=10.0.0.5/7,gw=10.0.0.1"],
  ["ipconfig0", "ip6=2001:db8::5/1"],
  ["ipconfig0", "gw=10.0.0.1"],
  ["ipconfig0", "ip=10.0.0.5/24,gw6=2001:db8::1"],
  ["scsi0", "1local:vm-100-disk-0"],
  ["scsi0", "l:vm-100-disk-0"],
  ["name", "a..b"],
  ["name", "a.-b"],
  ["name", "web_1"],
  ["name", "web-"],
  // Drive.pm throttles: iops is an integer, mbps a number.
  ["scsi0", "local-lvm:vm-100-disk-0,iops=1.5"],
  ["scsi0", "local-lvm:vm-100-disk-0,mbps=fast"],
  ["net0", "virtio,bridge=vmbr0,rate=-1"],
];

const PVE_ACCEPTS: Array<[string, string]> = [
  ["scsi0", "local_zfs:vm-100-disk-0"],
  ["scsi0", "My.Store:vm-100-disk-0,ssd=on"],
  ["nameserver", "1.1.1.1,8.8.8.8"],
  ["nameserver", "1.1.1.1 2606:4700::1111"],
  ["efidisk0", "local-lvm:1,efitype=4m,pre-enrolled-keys=1"],
  ["ipconfig0", "ip=manual"],
  ["ipconfig0", "ip6=manual"],
  ["ipconfig0", "ip=203.0.113.38/27,gw=203.0.113.33,ip6=2001:db8:1234:5600::4/128,gw6=2001:db8:1234:5600::1"],
  ["net0", "virtio,bridge=vmbr0,mtu=1,queues=0,trunks=10;20-30"],
  ["net0", "bridge=vmbr0,model=virtio,macaddr=BC:24:11:00:00:02"],
  ["name", "a".repeat(64)],
  ["agent", "1,freeze-fs-on-backup=0"],
  ["cicustom", "user=local:snippets/blockhost-web-1.yaml,meta=local:snippets/blockhost-web-1.meta"],
  ["ide2", "local-lvm:cloudinit"],
  ["scsi0", "local-lvm:vm-100-disk-0,size=4G,iops=2000,mbps=150"],
  ["scsi0", "local-lvm:vm-100-disk-0,mbps=0.5"],
  ["net0", "virtio=BC:24:11:00:00:02,bridge=vmbr0,firewall=1,rate=0.477,link_down=1"],
];

test("every value PVE refuses is refused by the allowlist (and by the simulator)", () => {
  for (const [key, value] of PVE_REFUSES) {
    expect({ key, value, pve: optionProblems({ [key]: value }).length > 0 }).toEqual({ key, value, pve: true });
    expect({ key, value, ours: QM_OPTION_CHECKS[key]!(value) }).toEqual({ key, value, ours: false });
  }
});

test("operator values PVE accepts are accepted by the allowlist (and by the simulator)", () => {
  for (const [key, value] of PVE_ACCEPTS) {
    expect({ key, value, pve: optionProblems({ [key]: value }) }).toEqual({ key, value, pve: [] });
    expect({ key, value, ours: QM_OPTION_CHECKS[key]!(value) }).toEqual({ key, value, ours: true });
  }
});

test("sshkeys is not an allowlisted option (the qm CLI reads it from a file)", () => {
  expect(Object.hasOwn(QM_OPTION_CHECKS, "sshkeys")).toBe(false);
});
