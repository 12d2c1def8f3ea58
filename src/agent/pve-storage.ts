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

/** PVE forces `local` to be this directory storage on every node (Plugin.pm parse_config). */
const LOCAL_PATH = "/var/lib/vz";

function readSections(): StorageSection[] {
  const file = paths.pveStorageConfig;
  return existsSync(file) ? parseStorageConfig(readFileSync(file, "utf8")) : [];
}

/**
 * The section PVE itself uses for `storage`: storage.cfg's, except that `local` is always `dir`
 * at /var/lib/vz (a `local` of another type or path is replaced, keeping nothing of it).
 */
function effectiveSection(storage: string): StorageSection | undefined {
  const section = readSections().find((s) => s.id === storage);
  if (storage !== "local") return section;
  if (section?.type !== "dir" || (section.props.path && section.props.path !== LOCAL_PATH))
    return { type: "dir", id: "local", props: { path: LOCAL_PATH } };
  return { ...section, props: { ...section.props, path: LOCAL_PATH } };
}

/** ` (lvm)`: the storage's type as storage.cfg gives it, for messages ("" when unknown). */
export function snippetStorageType(storage: string): string {
  try {
    const type = effectiveSection(storage)?.type;
    return type ? ` (${type})` : "";
  } catch {
    return "";
  }
}

/** pve-dir-override-list: `snippets=ci-snippets,iso=isos` → the snippets entry, if any. */
function contentDir(section: StorageSection, vtype: string): string | undefined {
  for (const item of (section.props["content-dirs"] ?? "").split(/[,;\s]+/).filter(Boolean)) {
    const [content, dir] = item.split("=", 2);
    if (content === vtype && dir) return dir;
  }
  return undefined;
}

const SAFE_PATH_RE = /^[A-Za-z0-9._/-]{1,4096}$/;

/**
 * Where a file-based storage keeps its snippets, as pve-storage's get_subdir computes it:
 * `<path>/<content-dirs snippets= or "snippets">` (path defaulting to /mnt/pve/<id> for network
 * storage), under the agent's root; `local` is always /var/lib/vz (PVE forces it).
 */
export function snippetDirOf(storage: string): string {
  const file = paths.pveStorageConfig;
  const section = effectiveSection(storage);
  if (!section) throw new BlockhostError("E_CONFIG_INVALID", `snippet storage '${storage}' is not defined in ${file}`);
  if (!FILE_STORAGE_TYPES.has(section.type)) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `snippet storage '${storage}' is of type ${section.type}, which holds no files (use a dir, nfs, cifs or cephfs storage)`,
    );
  }
  const dir = section.props.path || `/mnt/pve/${storage}`;
  const sub = contentDir(section, "snippets") ?? "snippets";
  // get_subdir joins them as "$path/$subdir" (a leading `/` in the override stays under the path).
  const full = `${dir}/${sub}`.replace(/\/{2,}/g, "/");
  if (!dir.startsWith("/") || !SAFE_PATH_RE.test(full) || full.split("/").includes("..")) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${file}: storage '${storage}' has an unusable snippets path ${JSON.stringify(full)}`,
    );
  }
  return join(paths.root, full);
}
