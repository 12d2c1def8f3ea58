/** Filesystem helpers that must not be fooled by symlinks or partial writes: confinement, atomic writes. */
import {
  type Stats,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { BlockhostError } from "./errors.ts";

/** Random hex for temporary names (Web Crypto: node:crypto costs the PAM helper's start). */
const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

/** Absolute paths the agent accepts from a client: plain characters, no `.`/`..` components, no `//`. */
export const SAFE_PATH_RE = /^(\/[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,254})+$/;

/**
 * Why `path` is not an existing regular file confined under one of `bases`, or null if it is.
 * Every component below the base is checked with lstat, so a symlink anywhere (even one that
 * points back inside) is refused rather than followed. Hard-linked files are refused too: a
 * link count above one could be a root-owned file linked into a world-writable directory.
 * Every component must belong to root, the blockhost user or the agent's own uid, and no
 * directory below the base may be world-writable: otherwise a third user could swap a checked
 * file for a symlink between this check and the command that opens it.
 */
export function confinementProblem(path: string, bases: readonly string[]): string | null {
  const trusted = new Set([0, process.getuid?.() ?? 0, blockhostUid() ?? 0]);
  if (!SAFE_PATH_RE.test(path) || path.split("/").some((c) => c === "." || c === ".."))
    return "not a plain absolute path";
  const base = bases.find((b) => path.startsWith(b.endsWith(sep) ? b : b + sep));
  if (!base) return `not under ${bases.join(" or ")}`;
  const parts = relative(base, path).split(sep);
  let current = base;
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    let st: Stats;
    try {
      st = lstatSync(current);
    } catch {
      return `${current} does not exist`;
    }
    if (st.isSymbolicLink()) return `${current} is a symbolic link`;
    if (!trusted.has(st.uid)) return `${current} belongs to uid ${st.uid}, not root or blockhost`;
    if (st.isDirectory() && (st.mode & 0o002) !== 0) return `${current} is world-writable`;
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) return `${current} is not a directory`;
    if (last && !st.isFile()) return `${current} is not a regular file`;
    if (last && st.nlink !== 1) return `${current} has other hard links`;
  }
  return null;
}

/**
 * Create `dir` (and missing parents below `base`) with `mode`, refusing any existing component
 * below `base` that is a symlink or not a directory.
 */
export function ensureDirUnder(base: string, dir: string, mode = 0o755): void {
  const rel = relative(base, dir);
  if (rel.startsWith("..") || rel.startsWith(sep))
    throw new BlockhostError("E_INTERNAL", `${dir} is not under ${base}`);
  let current = base;
  for (const part of rel ? rel.split(sep) : []) {
    current = join(current, part);
    try {
      const st = lstatSync(current);
      if (st.isSymbolicLink() || !st.isDirectory())
        throw new BlockhostError("E_IO", `${current} is not a plain directory`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(current, { mode });
    }
  }
}

/** The id of `blockhost` in /etc/passwd or /etc/group (third field), or undefined when there is none. */
function lookupBlockhostId(file: string): number | undefined {
  try {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (name === "blockhost" && id && /^\d+$/.test(id)) return Number(id);
    }
  } catch {
    /* no database: treat as absent */
  }
  return undefined;
}

/** The gid of the `blockhost` group, or undefined when the system has none (dev machines, tests). */
export const blockhostGid = (): number | undefined => lookupBlockhostId("/etc/group");
/** The uid of the `blockhost` service user, or undefined. */
export const blockhostUid = (): number | undefined => lookupBlockhostId("/etc/passwd");

export interface AtomicWriteOptions {
  /** Final permission bits; the file is never more open than this at any moment. */
  readonly mode: number;
  /** Give the file to root:blockhost (only when running as root and the group exists). */
  readonly blockhostGroup?: boolean;
  /** Fail with E_CONFLICT instead of replacing an existing file. */
  readonly noClobber?: boolean;
}

/**
 * Write a file so readers see the old content or the new, never a mix, and never a more open
 * mode: a 0600 temp file created with O_EXCL|O_NOFOLLOW in the same directory gets its owner,
 * mode and content, is fsynced, then renamed (or hard-linked, for noClobber) into place.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions): void {
  const dir = dirname(path);
  const dst = lstatSync(dir);
  if (dst.isSymbolicLink() || !dst.isDirectory()) throw new BlockhostError("E_IO", `${dir} is not a plain directory`);
  const tmp = join(dir, `.${basename(path)}.${randomHex(6)}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let placed = false;
  let open = true;
  try {
    const gid = options.blockhostGroup ? blockhostGid() : undefined;
    if (process.getuid?.() === 0) fchownSync(fd, 0, gid ?? 0);
    fchmodSync(fd, options.mode);
    const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    if (options.noClobber) {
      try {
        linkSync(tmp, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST")
          throw new BlockhostError("E_CONFLICT", `${path} already exists`);
        throw e;
      }
    } else {
      renameSync(tmp, path);
    }
    placed = !options.noClobber;
  } finally {
    if (open) closeSync(fd);
    if (!placed)
      try {
        unlinkSync(tmp);
      } catch {
        /* gone */
      }
  }
}
