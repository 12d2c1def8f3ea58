/** The libvirt domain XML the agent builds itself from validated values (never from client XML). */
import { join } from "node:path";
import { KERNEL_CMDLINE } from "../../core/template/boot.ts";
import { vmPortName } from "../port-guard/rules.ts";

export interface DomainSpec {
  name: string;
  dir: string;
  memoryMb: number;
  vcpus: number;
  mac: string;
  /** The overlay's backing file (the template). */
  template: string;
  /** A libvirt network name, or a host bridge when `network` is absent. */
  network?: string;
  bridge?: string;
  accel: "kvm" | "tcg";
}

/** VM files, all inside the VM's root-owned directory. */
export const vmFiles = (dir: string) => ({
  disk: join(dir, "disk.qcow2"),
  seed: join(dir, "seed.iso"),
  kernel: join(dir, "vmlinuz"),
  initrd: join(dir, "initrd"),
  xml: join(dir, "domain.xml"),
  console: join(dir, "console.log"),
});

const esc = (v: string | number) => String(v).replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * q35, direct kernel boot of the template's kernel, virtio disk/net/rng (the NIC's host side named
 * by `vmPortName`, which the port guard's rules are keyed on), the NoCloud seed as a
 * read-only SATA CD, serial console logged to a file, the guest-agent channel. Under TCG the
 * translation cache is capped at 256 MiB (QEMU's 1 GiB default doubles the RSS of a 1 GiB VM).
 * The template is named as the backing store with relabel='no': libvirt would otherwise chown the
 * shared template to libvirt-qemu while a VM runs (and leave it so), and it is read-only anyway.
 */
export function domainXml(s: DomainSpec): string {
  const f = vmFiles(s.dir);
  const nic = s.network
    ? `<interface type='network'><source network='${esc(s.network)}'/>`
    : `<interface type='bridge'><source bridge='${esc(s.bridge ?? "")}'/>`;
  const cpu = s.accel === "kvm" ? "<cpu mode='host-passthrough' check='none'/>" : "<cpu mode='maximum' check='none'/>";
  const tcg = s.accel === "tcg" ? "<tcg><tb-cache unit='MiB'>256</tb-cache></tcg>" : "";
  return `<domain type='${s.accel === "kvm" ? "kvm" : "qemu"}'>
  <name>${esc(s.name)}</name>
  <memory unit='MiB'>${esc(s.memoryMb)}</memory>
  <vcpu>${esc(s.vcpus)}</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${esc(f.kernel)}</kernel>
    <initrd>${esc(f.initrd)}</initrd>
    <cmdline>${esc(KERNEL_CMDLINE)}</cmdline>
  </os>
  <features><acpi/><apic/>${tcg}</features>
  ${cpu}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${esc(f.disk)}'/>
      <backingStore type='file'><format type='qcow2'/><source file='${esc(s.template)}'><seclabel model='dac' relabel='no'/></source><backingStore/></backingStore>
      <target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${esc(f.seed)}'/><target dev='sda' bus='sata'/><readonly/></disk>
    ${nic}<mac address='${esc(s.mac)}'/><target dev='${esc(vmPortName(s.name))}'/><model type='virtio'/><port isolated='yes'/></interface>
    <serial type='pty'><log file='${esc(f.console)}' append='off'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
    <memballoon model='virtio'/>
  </devices>
</domain>
`;
}

/**
 * KVM only where the CPU offers hardware virtualisation (vmx/svm) and /dev/kvm opens: a /dev/kvm
 * node alone is not enough (nested PVM hosts have one, and stock guest kernels die under it).
 */
export function detectAccel(cpuinfo: string, kvmOpens: boolean): { accel: "kvm" | "tcg"; reason: string } {
  const hw = /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
  if (!hw) return { accel: "tcg", reason: "the CPU has no vmx/svm flag" };
  if (!kvmOpens) return { accel: "tcg", reason: "/dev/kvm is missing or cannot be opened" };
  return { accel: "kvm", reason: "hardware virtualisation (vmx/svm) and /dev/kvm" };
}
