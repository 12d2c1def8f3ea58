/** Who connected to the agent socket (SO_PEERCRED) and whether they may. */
import { dlopen, FFIType, ptr } from "bun:ffi";
import type { PeerCredentials } from "./actions/types.ts";
import { blockhostGid, blockhostUid } from "../core/fs.ts";

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

let libc:
  | { symbols: { getsockopt: (fd: number, level: number, name: number, value: unknown, len: unknown) => number } }
  | undefined;

/**
 * The kernel's record of who connected (SO_PEERCRED), read at accept. Identity never
 * comes from the request itself.
 */
export function peerCredentials(fd: number): PeerCredentials | undefined {
  libc ??= dlopen("libc.so.6", {
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  }) as unknown as typeof libc;
  const cred = new Int32Array(3);
  const len = new Uint32Array([cred.byteLength]);
  const rc = libc!.symbols.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ptr(cred), ptr(len));
  if (rc !== 0 || len[0] !== cred.byteLength) return undefined;
  return { pid: cred[0]!, uid: cred[1]!, gid: cred[2]! };
}

/** The uid and gid of the `blockhost` service account, from the system databases (not BLOCKHOST_ROOT). */
export function serviceIdentity(): { uid?: number; gid?: number } {
  return { uid: blockhostUid(), gid: blockhostGid() };
}

/** Root, the service user, or a process whose group is the service group. */
export function isAllowedPeer(peer: PeerCredentials, service = serviceIdentity()): boolean {
  return (
    peer.uid === 0 ||
    (service.uid !== undefined && peer.uid === service.uid) ||
    (service.gid !== undefined && peer.gid === service.gid)
  );
}
