/** Whether another process on this host still exists, and child processes that cannot outlive their parent. */
import { existsSync } from "node:fs";

/** Signal 0 checks without signalling; EPERM means it exists under another user. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const SETPRIV = "/usr/bin/setpriv";

/**
 * `argv` made to end with the process that starts it: the kernel sends it `signal` when its parent dies
 * (PR_SET_PDEATHSIG, set by util-linux setpriv before it execs `argv`), so even a SIGKILLed parent leaves
 * no orphan. Start it from the main thread: the signal follows the thread that forked it.
 */
export function diesWithParent(argv: string[], signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): string[] {
  return existsSync(SETPRIV) ? [SETPRIV, `--pdeathsig=${signal}`, "--", ...argv] : argv;
}
