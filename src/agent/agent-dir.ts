/**
 * The agent's own directory (`<root>/var/lib/blockhost-agent`): root-owned, reached through a
 * chain of directories only root can change, and opened by descriptor. The setup-complete marker
 * and the staging area for client files live here, out of reach of the `blockhost` account.
 */
import { closeSync, fchmodSync, fstatSync } from "node:fs";
import { relative, sep } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { mkdirAt, O_DIRECTORY, O_NOFOLLOW, O_RDONLY, openAt, openRoot, SyscallError } from "./fd-syscalls.ts";

const S_ISVTX = 0o1000;
const ownUid = () => process.getuid?.() ?? 0;

/** Why the directory open on `fd` could be changed by someone other than root (or the agent), or null. */
function trustProblem(fd: number, name: string, own: boolean): string | null {
  const st = fstatSync(fd);
  if (!st.isDirectory()) return `${name} is not a directory`;
  if (st.uid !== 0 && st.uid !== ownUid()) return `${name} belongs to uid ${st.uid}`;
  const open = st.mode & 0o022;
  // A sticky root directory (/tmp) lets others add entries but not rename or remove root's.
  if (open && (own || (st.mode & S_ISVTX) === 0)) return `${name} is writable by group or others`;
  return null;
}

/**
 * Open `dir` (absolute) by walking from `/` one component at a time with O_NOFOLLOW|O_DIRECTORY,
 * refusing any component another user could rename or replace. Missing components below
 * `createBelow` are made (mode `mode`, whatever the umask). Returns the directory's fd.
 */
export function openTrustedDir(dir: string, createBelow?: string, mode = 0o755): number {
  const parts = relative("/", dir).split(sep).filter(Boolean);
  const createAt = createBelow ? relative("/", createBelow).split(sep).filter(Boolean).length : parts.length;
  let fd = openRoot();
  let at = "/";
  try {
    for (const [i, part] of parts.entries()) {
      const problem = trustProblem(fd, at, false);
      if (problem) throw new BlockhostError("E_STATE", `the agent's directory ${dir} is not safe: ${problem}`);
      let next: number;
      try {
        next = openAt(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (e) {
        if (!(e instanceof SyscallError && e.errno === "ENOENT" && i >= createAt)) throw e;
        mkdirAt(fd, part, 0o700);
        next = openAt(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        fchmodSync(next, mode);
      }
      closeSync(fd);
      fd = next;
      at = `${at === "/" ? "" : at}/${part}`;
    }
    const problem = trustProblem(fd, at, true);
    if (problem) throw new BlockhostError("E_STATE", `the agent's directory ${dir} is not safe: ${problem}`);
    return fd;
  } catch (e) {
    closeSync(fd);
    if (e instanceof SyscallError)
      throw new BlockhostError("E_STATE", `cannot open the agent's directory ${dir}: ${e.message}`);
    throw e;
  }
}

/** `<root>/var/lib/blockhost-agent` (0755: the service may read the setup marker, never write). */
export const openAgentDir = (): number => openTrustedDir(paths.agentDir, paths.root, 0o755);

/** `<root>/var/lib/blockhost-agent/staging` (0700): private copies of client files while a command uses them. */
export function openStagingDir(): number {
  closeSync(openAgentDir());
  return openTrustedDir(paths.agentStagingDir, paths.agentDir, 0o700);
}
