/**
 * Whether setup is over, from a marker only root can write or remove (`<agent dir>/setup-complete`).
 * The marker of older versions (`/var/lib/blockhost/.setup-complete`, in the service's own
 * directory) still counts when present, and the agent then writes the new one, so deleting the
 * old file afterwards reopens nothing. The opposite direction is safe: a service account that
 * creates the old file only closes setup.
 */
import { closeSync, fchmodSync, lstatSync, readdirSync, writeSync } from "node:fs";
import { logEvent } from "../core/log.ts";
import { paths } from "../core/paths.ts";
import { openAgentDir, openStagingDir } from "./agent-dir.ts";
import { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, openAt, SyscallError, unlinkAt } from "./fd-syscalls.ts";

const MARKER = "setup-complete";
const present = (file: string) => lstatSync(file, { throwIfNoEntry: false }) !== undefined;

/** Write the marker (0644 root, so the wizard can read it); false when it was already there. */
export function markSetupComplete(note: string): boolean {
  const dir = openAgentDir();
  try {
    let fd: number;
    try {
      fd = openAt(dir, MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    } catch (e) {
      if (e instanceof SyscallError && e.errno === "EEXIST") return false;
      throw e;
    }
    try {
      fchmodSync(fd, 0o644);
      writeSync(fd, `${new Date().toISOString()} ${note}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } finally {
    closeSync(dir);
  }
}

/** Setup is complete: the agent's marker exists, or an old-place marker (then carried over). */
export function setupIsComplete(): boolean {
  if (present(paths.setupComplete)) return true;
  if (!present(paths.legacySetupComplete)) return false;
  try {
    if (markSetupComplete(`carried over from ${paths.legacySetupComplete}`))
      logEvent("agent.setup_marker_migrated", { from: paths.legacySetupComplete, to: paths.setupComplete });
  } catch (e) {
    // Still complete (the old marker is there); the carry-over is retried at the next check.
    logEvent("agent.dir_problem", { dir: paths.agentDir, error: e instanceof Error ? e.message : String(e) });
  }
  return true;
}

/**
 * At start: make the agent's directory (and carry an old marker over), and drop staged copies a
 * killed agent left behind. A problem is logged, not fatal: only the actions that need the
 * directory fail, with the reason.
 */
export function prepareAgentDir(): void {
  try {
    closeSync(openAgentDir());
    setupIsComplete();
    const staging = openStagingDir();
    try {
      for (const name of readdirSync(paths.agentStagingDir)) unlinkAt(staging, name);
    } finally {
      closeSync(staging);
    }
  } catch (e) {
    logEvent("agent.dir_problem", { dir: paths.agentDir, error: e instanceof Error ? e.message : String(e) });
  }
}
