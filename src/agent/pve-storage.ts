/** Where a Proxmox storage keeps its snippets, read from /etc/pve/storage.cfg (storage.cfg(5)). */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";

/** Storage types whose volumes are files under a directory (`path`, or the /mnt/pve/<id> mount point). */
const FILE_STORAGE_TYPES = new Set(["dir", "nfs", "cifs", "cephfs", "glusterfs", "btrfs"]);

interface StorageSection {
  type: string;
  id: string;
  props: Record<string, string>;
}

/** storage.cfg: `type: id` headers, each followed by indented `key value` lines. */
export function parseStorageConfig(text: string): StorageSection[] {
  const sections: StorageSection[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trimEnd();
    const header = /^([a-z][a-z0-9]*):\s*(\S+)$/.exec(line);
    if (header) sections.push({ type: header[1]!, id: header[2]!, props: {} });
    else if (/^\s+\S/.test(line) && sections.length) {
      const m = /^\s+(\S+)(?:\s+(.*))?$/.exec(line)!;
      sections.at(-1)!.props[m[1]!] = (m[2] ?? "").trim();
    }
  }
  return sections;
}

/**
 * `<root><storage path>/snippets` for a file-based storage. `local` is /var/lib/vz when storage.cfg
 * does not define it (Proxmox's built-in default).
 */
export function snippetDirOf(storage: string): string {
  const file = paths.pveStorageConfig;
  const sections = existsSync(file) ? parseStorageConfig(readFileSync(file, "utf8")) : [];
  const section = sections.find((s) => s.id === storage);
  if (!section) {
    if (storage === "local") return paths.snippetsDir;
    throw new BlockhostError("E_CONFIG_INVALID", `snippet storage '${storage}' is not defined in ${file}`);
  }
  if (!FILE_STORAGE_TYPES.has(section.type)) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `snippet storage '${storage}' is of type ${section.type}, which holds no files (use a dir, nfs, cifs or cephfs storage)`,
    );
  }
  const dir = section.props.path || `/mnt/pve/${storage}`;
  if (!/^\/[A-Za-z0-9._/-]{0,4095}$/.test(dir) || dir.split("/").includes("..")) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${file}: storage '${storage}' has an unusable path ${JSON.stringify(dir)}`,
    );
  }
  return join(paths.root, dir, "snippets");
}
