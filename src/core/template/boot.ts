/** How a template boots: shared by the template builder and the root agent's direct-kernel domains. */

/** The whole-disk ext4 carries this label; the kernel command line mounts it by label. */
export const ROOT_LABEL = "rootfs";
export const KERNEL_CMDLINE = `root=LABEL=${ROOT_LABEL} ro console=ttyS0 panic=-1`;
