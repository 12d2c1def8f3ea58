/** How a template boots: shared by the template builder and the root agent's direct-kernel domains. */

/** The whole-disk ext4 carries this label; the kernel command line mounts it by label. */
export const ROOT_LABEL = "rootfs";
/**
 * net.ifnames=0: the kernel's names (eth0) are final, so first boot renames NICs to the seed's names
 * without waiting for udev to settle the coldplug first.
 */
export const KERNEL_CMDLINE = `root=LABEL=${ROOT_LABEL} ro console=ttyS0 panic=-1 net.ifnames=0`;
