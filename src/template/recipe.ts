/** What goes into the VM template: Debian packages, the guest-side configuration, the boot command line. */
import { DEFAULT_OS, TEMPLATE_OSES } from "./os.ts";

/** Debian packages the guest needs; nothing is installed at first boot (the guest has no internet). */
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
/** The whole-disk ext4 carries this label; the kernel command line mounts it by label. */
export const ROOT_LABEL = "rootfs";
export const KERNEL_CMDLINE = `root=LABEL=${ROOT_LABEL} ro console=ttyS0 panic=-1`;

/** apt sources for mmdebstrap: main, updates and security of one suite. */
export function aptSources(suite: string, mirror: string): string[] {
  const security = mirror.replace(/\/debian\/?$/, "/debian-security");
  return [
    `deb ${mirror} ${suite} main`,
    `deb ${mirror} ${suite}-updates main`,
    `deb ${security} ${suite}-security main`,
  ];
}

const CLOUD_INIT_MODULES = [
  "seed_random",
  "bootcmd",
  "write_files",
  "resizefs",
  "set_hostname",
  "update_hostname",
  "update_etc_hosts",
  "users_groups",
  "ssh",
];

/**
 * cloud-init limited to what BlockHost's user-data uses (NoCloud seed, hostname, users, files, host
 * keys, disk growth): every module skipped is Python start-up time saved under TCG. The config and
 * final stages have nothing to do, so their units are masked below.
 */
export const CLOUD_CFG = `# /etc/cloud/cloud.cfg.d/90-blockhost.cfg: written by blockhost template build.
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
manage_etc_hosts: true
cloud_init_modules: [ ${CLOUD_INIT_MODULES.join(", ")} ]
cloud_config_modules: []
cloud_final_modules: []
`;

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
  "cloud-config.service",
  "cloud-final.service",
] as const;

/** Units the template enables (their files are among the vmauth files). */
export const ENABLED_UNITS = [{ unit: "blockhost-signing-page.service", wantedBy: "multi-user.target" }] as const;

/**
 * The initrd carries only what mounts a VM's root disk (virtio or virtio-scsi, ext4): Debian's
 * MODULES=most initrd is 36 MB and took ~35 s to unpack and probe under TCG.
 */
export const INITRAMFS_CONF = "MODULES=list\nCOMPRESS=gzip\n";
export const INITRAMFS_MODULES = "virtio_pci\nvirtio_blk\nvirtio_scsi\nsd_mod\next4\n";

export const FSTAB = `LABEL=${ROOT_LABEL} / ext4 defaults,errors=remount-ro 0 1\n`;
export const INTERFACES = "auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n";

/**
 * The bootloader image's root is partition 1 of the disk: growpart (cloud-guest-utils) must grow
 * the partition before resizefs grows the filesystem. The bare-filesystem image has nothing to grow.
 */
export const CLOUD_CFG_GROWPART = `# /etc/cloud/cloud.cfg.d/91-blockhost-growpart.cfg: written by blockhost template build (bootloader image).
cloud_init_modules: [ ${CLOUD_INIT_MODULES.flatMap((m) => (m === "resizefs" ? ["growpart", m] : [m])).join(", ")} ]
`;
/** Installed only into the bootloader image (the package providing growpart). */
export const BOOTLOADER_PACKAGES = ["cloud-guest-utils"] as const;
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
