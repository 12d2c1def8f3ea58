/**
 * Client files the agent hands to a command (qm importdisk): opened by the agent itself, one
 * component at a time without following symlinks, checked on the open descriptor (a regular file
 * of the caller's own), and copied into the agent's private staging directory. The command gets
 * the copy, in a directory only root can change, so neither a path swap nor a later write by the
 * file's owner reaches what the command reads, and nothing is ever moved into a client's tree
 * or out of it.
 */
import { closeSync, fstatSync, readSync, type Stats, writeSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { SAFE_PATH_RE } from "../core/fs.ts";
import { openStagingDir } from "./agent-dir.ts";
import {
  copyFileRange,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  openAt,
  openRoot,
  SyscallError,
  unlinkAt,
} from "./fd-syscalls.ts";

const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * Open the regular file at `path` under one of `bases` by descriptor: every component with
 * O_NOFOLLOW (directories also O_DIRECTORY), so a symlink anywhere, placed before or during the
 * walk, fails the open instead of being followed. Returns the fd and its fstat.
 */
export function openConfinedFile(path: string, bases: readonly string[]): { fd: number; st: Stats } {
  if (!SAFE_PATH_RE.test(path)) throw new BlockhostError("E_STATE", `${path}: not a plain absolute path`);
  const base = bases.find((b) => path.startsWith(b.endsWith(sep) ? b : b + sep));
  if (!base) throw new BlockhostError("E_STATE", `${path}: not under ${bases.join(" or ")}`);
  const parts = relative("/", path).split(sep);
  let fd = openRoot();
  try {
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      // O_NONBLOCK: a FIFO put in the file's place must not hang the agent.
      const next = openAt(fd, part, last ? O_RDONLY | O_NOFOLLOW | O_NONBLOCK : O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      closeSync(fd);
      fd = next;
    }
    const st = fstatSync(fd);
    if (!st.isFile()) throw new BlockhostError("E_STATE", `${path}: not a regular file`);
    if (st.nlink !== 1) throw new BlockhostError("E_STATE", `${path}: has other hard links`);
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    if (e instanceof SyscallError)
      throw new BlockhostError(
        "E_STATE",
        `${path}: ${e.errno === "ELOOP" || e.errno === "ENOTDIR" ? "a symbolic link or not a directory on the way" : e.errno}`,
      );
    throw e;
  }
}

function copyAll(from: number, to: number): void {
  if (copyFileRange(from, to) >= 0) return;
  const buf = Buffer.allocUnsafe(4 << 20);
  for (;;) {
    const n = readSync(from, buf, 0, buf.length, null);
    if (n === 0) return;
    for (let off = 0; off < n; ) off += writeSync(to, buf, off, n - off);
  }
}

/**
 * Run `use` on a private copy of the client's file at `path` (under `bases`, owned by `ownerUid`,
 * the peer's uid from SO_PEERCRED, unless that is root): the agent opens it itself, checks the open descriptor, copies
 * it to `<agent dir>/staging/<random>` (0600 root) and removes the copy afterwards. The client's
 * file is left where and as it was.
 */
export async function withStagedCopy<T>(
  path: string,
  bases: readonly string[],
  ownerUid: number,
  use: (staged: string) => Promise<T>,
): Promise<T> {
  const { fd: src, st } = openConfinedFile(path, bases);
  let srcOpen = true;
  let staging: number | undefined;
  let name: string | undefined;
  try {
    // Root may read any file anyway; anyone else only hands in their own.
    if (ownerUid !== 0 && st.uid !== ownerUid)
      throw new BlockhostError("E_STATE", `${path} belongs to uid ${st.uid}, not to the caller (uid ${ownerUid})`);
    staging = openStagingDir();
    name = `${randomHex(8)}.img`;
    const dst = openAt(staging, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      copyAll(src, dst);
    } finally {
      closeSync(dst);
    }
    closeSync(src);
    srcOpen = false;
    return await use(join(paths.agentStagingDir, name));
  } finally {
    if (srcOpen) closeSync(src);
    if (staging !== undefined) {
      if (name !== undefined)
        try {
          unlinkAt(staging, name);
        } catch {
          /* never created */
        }
      closeSync(staging);
    }
  }
}
