/**
 * Facts about Proxmox VM disks and storage types that both the agent and the backend rely on
 * (one owner): which config keys are disks, which volumes are base volumes, which storage types
 * can hold a template's base volume and link clones to it.
 */

/** qemu-server's drive keys (ide0-3, sata0-5, scsi0-30, virtio0-15) plus the EFI and TPM disks. */
export const DRIVE_KEY_RE = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|efidisk0|tpmstate0)$/;

/** A drive that template_create skips (drive_is_cdrom): a CD, an empty drive, the cloud-init drive. */
export function isCdromDrive(value: string): boolean {
  return /(^|,)media=cdrom(,|$)/.test(value) || /^(none|cdrom)(,|$)/.test(value);
}

/** A template's converted disk: the volume name holds a `base-<vmid>-` part (lvmthin, zfs, rbd, dir). */
export const BASE_VOLUME_RE = /(^|[:/])base-\d+-/;

/**
 * Storage types whose disks get a base volume from `qm template` and can be linked-cloned from
 * it (pve-storage volume_has_feature: `template` on current, `clone` on base). Thick `lvm`,
 * `iscsi`, `iscsidirect` have neither: a template there keeps its `vm-` disk, which can only be
 * copied (full clone). Same in PVE 8 (stable-8) and PVE 9 (master).
 */
export const LINKED_CLONE_STORAGE_TYPES: ReadonlySet<string> = new Set([
  "dir",
  "nfs",
  "cifs",
  "cephfs",
  "glusterfs",
  "btrfs",
  "lvmthin",
  "zfspool",
  "zfs",
  "rbd",
]);

/** `scsi0 on a vm- volume (local-lvm:vm-9001-disk-0)` for every non-CD disk that is not a base volume. */
export function nonBaseDisks(config: Record<string, string>): string[] {
  return Object.entries(config)
    .filter(([k, v]) => DRIVE_KEY_RE.test(k) && !isCdromDrive(v))
    .map(([k, v]) => [k, v.split(",")[0]!] as const)
    .filter(([, volume]) => !BASE_VOLUME_RE.test(volume.slice(volume.indexOf(":") + 1)))
    .map(([k, volume]) => `${k} on a vm- volume (${volume})`);
}

/** The storage id of a volume id (`local-lvm:base-9001-disk-0` → `local-lvm`). */
export const storageOfVolume = (volume: string): string => volume.split(",")[0]!.split(":")[0]!;
