/** What goes into the VM template: Debian packages, the guest-side configuration, the boot command line. */
import { FIRSTBOOT_UNIT } from "../guest/files/index.ts";
import { KERNEL_CMDLINE, ROOT_LABEL } from "../core/template/boot.ts";
import { DEFAULT_OS, TEMPLATE_OSES } from "../core/template/os.ts";

/**
 * Debian packages the guest needs; nothing is installed at first boot. No cloud-init: the template's
 * blockhost-firstboot.service applies the NoCloud seed with the blockhost binary (cloud-init's Python
 * start-up was most of a boot under TCG). fdisk (sfdisk) grows the bootloader image's root partition.
 */
export const TEMPLATE_PACKAGES = [
  "linux-image-amd64",
  "systemd-sysv",
  "udev",
  "dbus",
  "openssh-server",
  "qemu-guest-agent",
  "sudo",
  "ifupdown",
  "iproute2",
  "netbase",
  "e2fsprogs",
  "procps",
  "fdisk",
] as const;

export const DEFAULT_SUITE: string = TEMPLATE_OSES[DEFAULT_OS].suite;
export const DEFAULT_MIRROR = "http://deb.debian.org/debian";

/** apt sources for mmdebstrap: main, updates and security of one suite. */
export function aptSources(suite: string, mirror: string): string[] {
  const security = mirror.replace(/\/debian\/?$/, "/debian-security");
  return [
    `deb ${mirror} ${suite} main`,
    `deb ${mirror} ${suite}-updates main`,
    `deb ${security} ${suite}-security main`,
  ];
}

/** Units that only cost boot time in a customer VM (timers for a desktop, apt refreshes without internet). */
export const MASKED_UNITS = [
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.timer",
  "man-db.timer",
  "systemd-pstore.service",
  "ifupdown-wait-online.service",
] as const;

/** Units the template enables (their files are among the vmauth files). */
export const ENABLED_UNITS = [
  { unit: "blockhost-signing-page.service", wantedBy: "multi-user.target" },
  { unit: FIRSTBOOT_UNIT, wantedBy: "multi-user.target" },
] as const;

/**
 * The initrd carries only what mounts a VM's root disk (virtio or virtio-scsi, ext4): Debian's
 * MODULES=most initrd is 36 MB and took ~35 s to unpack and probe under TCG. The CD controllers
 * (libvirt's SATA, Proxmox's IDE), sr_mod and virtio_net are loaded there too, so the seed's CD and
 * the NIC are present when the first boot looks for them instead of after udev's coldplug (a loaded
 * host saw Debian 13's NIC appear minutes into the boot).
 */
export const INITRAMFS_CONF = "MODULES=list\nCOMPRESS=gzip\n";
export const INITRAMFS_MODULES =
  "virtio_pci\nvirtio_blk\nvirtio_scsi\nsd_mod\next4\nahci\nata_piix\nsr_mod\nvirtio_net\n";

export const FSTAB = `LABEL=${ROOT_LABEL} / ext4 defaults,errors=remount-ro 0 1\n`;
export const INTERFACES = "auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n";

/**
 * Build-host files replaced in the image: mmdebstrap leaves the builder's resolv.conf and hosts in
 * the tree. The first boot writes each VM's own; until then there is no resolver.
 */
export const NEUTRAL_FILES: ReadonlyArray<{ path: string; content: string }> = [
  { path: "/etc/resolv.conf", content: "# No resolvers yet: blockhost-firstboot writes this VM's from its seed.\n" },
  { path: "/etc/hostname", content: "localhost\n" },
  {
    path: "/etc/hosts",
    content:
      "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n",
  },
  { path: "/etc/machine-id", content: "" },
];

/** The root partition starts at 1 MiB; GRUB's core image lives in the gap before it. */
export const ROOT_PARTITION_START_SECTOR = 2048;

/** GRUB's menu: no wait, serial console, root found by its filesystem label, the same kernel command line. */
export function grubCfg(kernelVersion: string): string {
  return `# /boot/grub/grub.cfg: written by blockhost template build.
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
search --no-floppy --label --set=root ${ROOT_LABEL}
menuentry "Debian (blockhost template)" {
  linux /boot/vmlinuz-${kernelVersion} ${KERNEL_CMDLINE}
  initrd /boot/initrd.img-${kernelVersion}
}
`;
}
