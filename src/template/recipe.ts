/** What goes into the VM template: Debian packages, the guest-side configuration, the boot command line. */

/** Debian packages the guest needs; nothing is installed at first boot (the guest has no internet). */
export const TEMPLATE_PACKAGES = [
  "linux-image-amd64",
  "systemd-sysv",
  "udev",
  "dbus",
  "openssh-server",
  "cloud-init",
  "qemu-guest-agent",
  "sudo",
  "ifupdown",
  "iproute2",
  "netbase",
  "e2fsprogs",
  "procps",
] as const;

export const DEFAULT_SUITE = "bookworm";
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

/**
 * cloud-init limited to what BlockHost's user-data uses (NoCloud seed, hostname, users, files, host
 * keys, disk growth): every module skipped is Python start-up time saved under TCG. The config and
 * final stages have nothing to do, so their units are masked below.
 */
export const CLOUD_CFG = `# /etc/cloud/cloud.cfg.d/90-blockhost.cfg: written by blockhost template build.
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
manage_etc_hosts: true
cloud_init_modules: [ seed_random, bootcmd, write_files, resizefs, set_hostname, update_hostname, update_etc_hosts, users_groups, ssh ]
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
