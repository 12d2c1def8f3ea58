/**
 * What a client's disk image may be before a root command opens it: a self-contained qcow2
 * (version 2 or 3, no backing file, no external data file) or raw bytes that no image format
 * claims. Anything that can make qemu open another file as root (a backing chain, a VMDK
 * descriptor's extents, a differencing VHD's parent) is refused. The header is read by the
 * agent itself, then `qemu-img info` with the format pinned must agree.
 */
import { closeSync, openSync, readSync, constants } from "node:fs";
import { BlockhostError } from "../core/errors.ts";
import type { ActionContext } from "./actions/types.ts";

export type DiskFormat = "qcow2" | "raw";

const QCOW2_MAGIC = 0x514649fb;
/** qcow2 v3 incompatible feature bit 2: the guest data lives in an external file. */
const QCOW2_EXTERNAL_DATA = 1n << 2n;

/** Signatures of the other formats qemu would probe (and some of which name other files). */
const OTHER_FORMATS: ReadonlyArray<[string, (h: Buffer) => boolean]> = [
  ["vmdk", (h) => ["KDMV", "COWD"].includes(h.toString("latin1", 0, 4))],
  ["vmdk descriptor", (h) => /# Disk DescriptorFile|createType\s*=/.test(h.toString("latin1"))],
  ["qed", (h) => h.toString("latin1", 0, 4) === "QED\0"],
  ["vpc", (h) => h.toString("latin1", 0, 8) === "conectix"],
  ["vhdx", (h) => h.toString("latin1", 0, 8) === "vhdxfile"],
  ["vdi", (h) => h.length >= 68 && h.readUInt32LE(64) === 0xbeda107f],
  ["luks", (h) => h.toString("latin1", 0, 6) === "LUKS\xba\xbe"],
  ["parallels", (h) => ["WithoutFreeSpace", "WithouFreSpacExt"].includes(h.toString("latin1", 0, 16))],
  ["bochs", (h) => h.toString("latin1", 0, 22) === "Bochs Virtual HD Image"],
  ["cloop", (h) => h.toString("latin1").includes("#V2.0 Format")],
];

const refuse = (file: string, why: string): never => {
  throw new BlockhostError("E_INVALID_INPUT", `${file}: refused: ${why} (only self-contained qcow2 or raw images)`, {
    reason: why,
  });
};

/** The format of the image at `file` from its first 4 KiB, or a refusal naming why. */
export function headerFormat(file: string, header: Buffer): DiskFormat {
  if (header.length >= 4 && header.readUInt32BE(0) === QCOW2_MAGIC) {
    if (header.length < 72) refuse(file, "a truncated qcow2 header");
    const version = header.readUInt32BE(4);
    if (version !== 2 && version !== 3) refuse(file, `qcow2 version ${version}`);
    if (header.readBigUInt64BE(8) !== 0n || header.readUInt32BE(16) !== 0) refuse(file, "a qcow2 with a backing file");
    if (version === 3 && (header.readBigUInt64BE(72) & QCOW2_EXTERNAL_DATA) !== 0n)
      refuse(file, "a qcow2 with an external data file");
    return "qcow2";
  }
  for (const [name, matches] of OTHER_FORMATS) if (matches(header)) refuse(file, `a ${name} image`);
  return "raw";
}

function readHeader(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(4096);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Check the agent's private copy of an image (see staging.ts) and return its format; `qemu-img
 * info` is asked with that format pinned, so it never probes, and must report no backing file.
 */
export async function checkDiskImage(ctx: ActionContext, file: string): Promise<DiskFormat> {
  const format = headerFormat(file, readHeader(file));
  const { stdout } = await ctx.run("qemu-img", ["info", "--output=json", "-f", format, file]);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    throw new BlockhostError("E_COMMAND_FAILED", `qemu-img info ${file}: output is not JSON`);
  }
  if (info.format !== format) refuse(file, `qemu-img reads it as ${String(info.format)}, not ${format}`);
  if ("backing-filename" in info || "full-backing-filename" in info) refuse(file, "a backing file");
  const specific = (info["format-specific"] as { data?: Record<string, unknown> } | undefined)?.data;
  if (specific && "data-file" in specific) refuse(file, "an external data file");
  return format;
}
