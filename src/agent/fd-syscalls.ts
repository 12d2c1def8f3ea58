/**
 * The *at() system calls Node's fs lacks (bun:ffi over libc), so the agent can walk and act on
 * directories through descriptors it opened itself: a name is resolved relative to a directory
 * fd, never through a path a third party could swap between a check and a use.
 */
import { dlopen, FFIType, read } from "bun:ffi";
import { BlockhostError } from "../core/errors.ts";

export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;

const i32 = FFIType.i32;
let libc:
  | {
      symbols: {
        openat(dirfd: number, name: unknown, flags: number, mode: number): number;
        mkdirat(dirfd: number, name: unknown, mode: number): number;
        unlinkat(dirfd: number, name: unknown, flags: number): number;
        copy_file_range(
          fdIn: number,
          offIn: unknown,
          fdOut: number,
          offOut: unknown,
          len: number,
          flags: number,
        ): number;
        __errno_location(): unknown;
      };
    }
  | undefined;

function lib() {
  libc ??= dlopen("libc.so.6", {
    openat: { args: [i32, FFIType.ptr, i32, FFIType.u32], returns: i32 },
    mkdirat: { args: [i32, FFIType.ptr, FFIType.u32], returns: i32 },
    unlinkat: { args: [i32, FFIType.ptr, i32], returns: i32 },
    copy_file_range: {
      args: [i32, FFIType.ptr, i32, FFIType.ptr, FFIType.u64, FFIType.u32],
      returns: FFIType.i64_fast,
    },
    __errno_location: { args: [], returns: FFIType.ptr },
  }) as unknown as typeof libc;
  return libc!.symbols;
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  28: "ENOSPC",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  95: "EOPNOTSUPP",
};

/** A failed *at() call; `errno` is the symbolic name (ELOOP for a symlink met with O_NOFOLLOW). */
export class SyscallError extends BlockhostError {
  constructor(
    readonly call: string,
    readonly errno: string,
    what: string,
  ) {
    super("E_IO", `${call} ${what}: ${errno}`, { errno });
  }
}

const cstr = (s: string) => {
  if (s.includes("\0") || s.includes("/") || s === "" || s === "." || s === "..")
    throw new BlockhostError("E_INTERNAL", `not a single path component: ${JSON.stringify(s)}`);
  // A TypedArray argument is passed as its pointer and stays referenced for the whole call.
  return Buffer.from(`${s}\0`, "utf8");
};

function check(rc: number, call: string, what: string): number {
  if (rc >= 0) return rc;
  const n = read.i32(lib().__errno_location() as never, 0);
  throw new SyscallError(call, ERRNO_NAMES[n] ?? `errno ${n}`, what);
}

/** openat(dirfd, name) for ONE path component; O_CLOEXEC is always added. */
export function openAt(dirfd: number, name: string, flags: number, mode = 0): number {
  return check(lib().openat(dirfd, cstr(name), flags | O_CLOEXEC, mode), "openat", name);
}

/** "/" itself, the start of every walk. */
export function openRoot(): number {
  return check(lib().openat(AT_FDCWD, Buffer.from("/\0"), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), "openat", "/");
}

export function mkdirAt(dirfd: number, name: string, mode: number): void {
  check(lib().mkdirat(dirfd, cstr(name), mode), "mkdirat", name);
}

export function unlinkAt(dirfd: number, name: string, dir = false): void {
  check(lib().unlinkat(dirfd, cstr(name), dir ? AT_REMOVEDIR : 0), "unlinkat", name);
}

/**
 * Copy everything from `fdIn` (at its current offset) to `fdOut` in the kernel; returns the bytes
 * copied, or -1 when copy_file_range cannot serve this pair (the caller then copies by hand).
 */
export function copyFileRange(fdIn: number, fdOut: number): number {
  let total = 0;
  for (;;) {
    const n = Number(lib().copy_file_range(fdIn, null, fdOut, null, 1 << 30, 0));
    if (n === 0) return total;
    if (n < 0) {
      const errno = read.i32(lib().__errno_location() as never, 0);
      // EXDEV/ENOSYS/EOPNOTSUPP/EINVAL before any byte: not supported here, fall back.
      if (total === 0 && [18, 38, 95, 22].includes(errno)) return -1;
      throw new SyscallError("copy_file_range", ERRNO_NAMES[errno] ?? `errno ${errno}`, `fd ${fdIn} -> ${fdOut}`);
    }
    total += n;
  }
}
