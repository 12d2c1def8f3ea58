/** The agent's listening socket: systemd-inherited or created with a safe mode. */
import { chownSync, existsSync, lstatSync, mkdirSync, type Stats, statSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { serviceIdentity } from "./peercred.ts";

export const SOCKET_MODE = 0o660;

/** The listening fd systemd handed us (sd_listen_fds protocol), if any. */
export function inheritedListenFd(env = process.env): number | undefined {
  if (env.LISTEN_PID !== String(process.pid)) return undefined;
  const count = Number(env.LISTEN_FDS);
  return Number.isInteger(count) && count >= 1 ? 3 : undefined;
}

/** Remove a stale socket left by a dead agent; refuse if one is alive or the path is not a socket. */
export async function clearStaleSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket())
    throw new BlockhostError("E_CONFLICT", `${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (alive) throw new BlockhostError("E_CONFLICT", `another agent is already listening on ${path}`);
  unlinkSync(path);
}

/**
 * Bind with a umask that makes the socket 0660 from its first instant, then give it to
 * group blockhost (when that group exists). There is never a moment it is more open.
 */
export function bindWithMode<T>(path: string, bind: () => T): T {
  const previous = process.umask(0o117);
  let result: T;
  try {
    result = bind();
  } finally {
    process.umask(previous);
  }
  const { gid } = serviceIdentity();
  if (gid !== undefined && process.getuid?.() === 0) chownSync(path, 0, gid);
  const mode = statSync(path).mode & 0o777;
  if (mode !== SOCKET_MODE)
    throw new BlockhostError("E_IO", `${path} was created with mode ${mode.toString(8)}, expected 660`);
  return result;
}

export function removeSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // already gone: nothing to clean up
  }
}
