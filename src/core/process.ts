/** Whether another process on this host still exists (lock and reservation holders that may have been killed). */

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
