/** cloud-init snippets on a Proxmox snippet storage: a VM's user-data and its pinned meta-data. */
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { object, optional, str } from "../../core/schema.ts";
import { storageId, vmName } from "../../core/validators.ts";
import { snippetDirOf } from "../pve-storage.ts";
import { ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { defineAction } from "./types.ts";

// User-data always ends in .yaml and meta-data in .meta, so no VM name can make one the other's file.
const userFile = (name: string) => `blockhost-${name}.yaml`;
const metaFile = (name: string) => `blockhost-${name}.meta`;
const instanceId = str(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "an instance id (letters, digits, . _ -; ≤128)", 128);

/**
 * Write a VM's user-data to `<snippet storage>/snippets/blockhost-NAME.yaml` (default storage
 * `local`, /var/lib/vz) and return the `cicustom` volumes. With `instance_id`, also write
 * NoCloud meta-data `blockhost-NAME.meta` pinning `instance-id` and `local-hostname`: Proxmox
 * otherwise derives the instance-id from a hash that includes the host's DNS search domain, and
 * a new id makes cloud-init regenerate the guest's SSH host keys.
 */
export const cloudinitWrite = defineAction({
  name: "cloudinit-write",
  params: object({
    name: vmName,
    content: str(/^#cloud-config\n[^\0]*$/, "cloud-init user-data starting with #cloud-config (≤256 KiB)", 256 * 1024),
    storage: optional(storageId),
    instance_id: optional(instanceId),
  }),
  timeoutMs: 30_000,
  handler: async (p) => {
    const storage = p.storage ?? "local";
    const dir = snippetDirOf(storage);
    ensureDirUnder(paths.root, dir);
    writeFileAtomic(join(dir, userFile(p.name)), p.content, { mode: 0o640 });
    const written = { path: join(dir, userFile(p.name)), volume: `${storage}:snippets/${userFile(p.name)}` };
    if (p.instance_id === undefined) return { ...written, meta_volume: null };
    writeFileAtomic(join(dir, metaFile(p.name)), `instance-id: ${p.instance_id}\nlocal-hostname: ${p.name}\n`, {
      mode: 0o640,
    });
    return { ...written, meta_volume: `${storage}:snippets/${metaFile(p.name)}` as string | null };
  },
});

/** Remove a VM's snippets (GC); `{removed: false}` when there was no user-data file. */
export const cloudinitDelete = defineAction({
  name: "cloudinit-delete",
  params: object({ name: vmName, storage: optional(storageId) }),
  timeoutMs: 30_000,
  handler: async (p) => {
    const dir = snippetDirOf(p.storage ?? "local");
    const removed = [userFile(p.name), metaFile(p.name)].map((f) => removeRegularFile(join(dir, f)));
    return { removed: removed[0]! };
  },
});

function removeRegularFile(file: string): boolean {
  if (!existsSync(file)) return false;
  if (!lstatSync(file).isFile()) throw new BlockhostError("E_STATE", `${file} is not a regular file`);
  unlinkSync(file);
  return true;
}
