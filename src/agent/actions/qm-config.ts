/** Reading `qm config` back, so an action can check that a step really took effect. */
import { BlockhostError } from "../../core/errors.ts";

const UNIT: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `20G`, `10.5G`, `10752M`, `512` (bytes) → bytes, the way qemu-server reads disk sizes. */
export function sizeBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(size);
  if (!m) throw new BlockhostError("E_INTERNAL", `not a disk size: ${size}`);
  return Math.floor(Number(m[1]) * UNIT[m[2]!]!);
}

/** The `size=` of a disk entry (`local-lvm:vm-101-disk-0,size=20G`), or null when absent. */
export function diskBytes(config: Record<string, string>, disk: string): number | null {
  const entry = config[disk];
  if (entry === undefined) return null;
  const m = /(?:^|,)size=([^,]+)/.exec(entry);
  return m ? sizeBytes(m[1]!) : null;
}

/** Bytes as qemu-server writes them: the largest unit that divides exactly. */
export function formatSize(bytes: number): string {
  for (const unit of ["T", "G", "M", "K"])
    if (bytes % UNIT[unit]! === 0 && bytes >= UNIT[unit]!) return `${bytes / UNIT[unit]!}${unit}`;
  return String(bytes);
}
