/** Free space on the filesystem that holds (or will hold) a path: what setup checks, the wizard and doctor show. */
import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";

/** The path itself or its nearest existing parent (statfs needs something that exists). */
export function nearestExisting(path: string): string | undefined {
  let p = path;
  while (!existsSync(p)) {
    if (p === dirname(p)) return undefined;
    p = dirname(p);
  }
  return p;
}

/** Bytes available to unprivileged writers and the filesystem's size, at `path`'s nearest existing parent. */
export function diskSpace(path: string): { dir: string; free: number; total: number } | undefined {
  const dir = nearestExisting(path);
  if (dir === undefined) return undefined;
  const s = statfsSync(dir);
  return { dir, free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/** Whole GB available to unprivileged writers at `path`, measured at its nearest existing parent. */
export function freeSpaceGb(path: string): number | undefined {
  const space = diskSpace(path);
  return space === undefined ? undefined : Math.floor(space.free / 1e9);
}
