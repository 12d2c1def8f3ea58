/** Read a file that holds a secret or names secret files, refusing one others could read or change. */
import { constants, lstatSync, type Stats } from "node:fs";
import { BlockhostError } from "./errors.ts";
import { blockhostUid } from "./fs.ts";
import { readRegularFile } from "./regular-file.ts";

export interface PrivateFilePolicy {
  /** How errors name the file, e.g. "deployer key file /etc/blockhost/deployer.key" (default: the path). */
  readonly label?: string;
  /** Permission bits that must be clear: 0o177 allows 0600 at most, 0o027 lets the group read. */
  readonly forbiddenMode: number;
  /** What the refusal of a too-open mode says after `mode 0NNN`, e.g. "is too open; chmod 0600". */
  readonly modeProblem: string;
  /** Who may own it: only the uid reading it, or also root and the blockhost user (files the agent wrote). */
  readonly owner: "caller" | "root, blockhost or caller";
}

const unreadable = (label: string, e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  return new BlockhostError(
    "E_CONFIG_MISSING",
    `${label}: ${code === "ENOENT" ? "not found" : `cannot read (${code})`}`,
  );
};

/**
 * The text of `file` once it is a regular file (a symlink is refused, never followed), owned as the
 * policy says and with none of `forbiddenMode`'s bits set. Each refusal is one line naming the file,
 * never its content.
 */
export function readPrivateFile(file: string, policy: PrivateFilePolicy): string {
  const label = policy.label ?? file;
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (e) {
    throw unreadable(label, e);
  }
  if (!st.isFile()) throw new BlockhostError("E_CONFIG_INVALID", `${label}: not a regular file`);
  const uid = process.getuid?.() ?? 0;
  if (policy.owner === "caller" && st.uid !== uid)
    throw new BlockhostError("E_CONFIG_INVALID", `${label}: owned by uid ${st.uid}, must be owned by you (uid ${uid})`);
  if (policy.owner !== "caller" && ![0, uid, blockhostUid()].includes(st.uid))
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${label}: owned by uid ${st.uid}, must be owned by root, blockhost or you (uid ${uid})`,
    );
  if ((st.mode & policy.forbiddenMode) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
    throw new BlockhostError("E_CONFIG_INVALID", `${label}: mode ${mode} ${policy.modeProblem}`);
  }
  try {
    // Checked again through the descriptor: a FIFO or symlink swapped in after lstat is refused, never waited on.
    return readRegularFile(file, constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTREG" || (e as NodeJS.ErrnoException).code === "ELOOP")
      throw new BlockhostError("E_CONFIG_INVALID", `${label}: not a regular file`);
    throw unreadable(label, e);
  }
}
