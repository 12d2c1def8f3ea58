/** Free space on the filesystem that holds (or will hold) a path: what setup checks and the wizard shows. */
import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";

/** Whole GB available to unprivileged writers at `path`, measured at its nearest existing parent. */
export function freeSpaceGb(path: string): number | undefined {
  let p = path;
  while (!existsSync(p)) {
    if (p === dirname(p)) return undefined;
    p = dirname(p);
  }
  const s = statfsSync(p);
  return Math.floor((s.bavail * s.bsize) / 1e9);
}
