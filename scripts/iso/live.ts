/**
 * The installer's initramfs: the target's own (initramfs-tools, MODULES=most) with a second cpio archive appended,
 * which the kernel unpacks over the first: our boot script (`boot=blockhost-live`) and the few kernel modules a
 * live boot needs that a disk boot does not (loop, squashfs, overlay, isofs, CD-ROM), taken from the image itself.
 * No second mkinitramfs run (minutes on a busy machine), and nothing of it lands on the installed disk.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const LIVE_MODULES = ["loop", "squashfs", "overlay", "isofs", "cdrom", "sr_mod"];
/** Where the appended modules sit in the initramfs; the boot script insmods them in this file's order. */
export const LIVE_MODULE_DIR = "blockhost-live";

function unsquash(squashfs: string, path: string): Uint8Array {
  const r = Bun.spawnSync(["unsquashfs", "-cat", squashfs, path], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`unsquashfs -cat ${path}: ${r.stderr.toString().trim()}`);
  return new Uint8Array(r.stdout);
}

/** The module files (dependencies first) for `names`, from the image's modules.dep; built-in ones have none. */
export function moduleFiles(modulesDep: string, names: string[]): string[] {
  const deps = new Map<string, { path: string; needs: string[] }>();
  const nameOf = (p: string) =>
    p
      .split("/")
      .at(-1)!
      .replace(/\.ko(\.[a-z]+)?$/, "")
      .replaceAll("-", "_");
  for (const line of modulesDep.split("\n")) {
    const [path, rest] = line.split(":");
    if (path && rest !== undefined) deps.set(nameOf(path), { path, needs: rest.trim().split(/\s+/).filter(Boolean) });
  }
  const order: string[] = [];
  const visit = (path: string) => {
    if (order.includes(path)) return;
    for (const dep of deps.get(nameOf(path))?.needs ?? []) visit(dep);
    order.push(path);
  };
  for (const n of names) {
    const m = deps.get(n.replaceAll("-", "_"));
    if (m) visit(m.path);
  }
  return order;
}

/** One cpio "newc" archive (what the kernel unpacks into the initramfs), files and the directories above them. */
export function cpioNewc(files: { path: string; data: Uint8Array; mode: number }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  const pad = (n: number) => new Uint8Array((4 - (n % 4)) % 4);
  let ino = 1;
  const entry = (name: string, mode: number, data: Uint8Array) => {
    const hex = (v: number) => v.toString(16).padStart(8, "0");
    const fields = [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const header = enc.encode(`070701${fields.map(hex).join("")}${name}\0`);
    parts.push(header, pad(header.length), data, pad(data.length));
  };
  const dirs = new Set<string>();
  for (const f of files) {
    const segments = f.path.split("/").slice(0, -1);
    for (let i = 1; i <= segments.length; i++) {
      const d = segments.slice(0, i).join("/");
      if (!dirs.has(d)) {
        dirs.add(d);
        entry(d, 0o040755, new Uint8Array());
      }
    }
    entry(f.path, 0o100000 | f.mode, f.data);
  }
  entry("TRAILER!!!", 0, new Uint8Array());
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total + ((512 - (total % 512)) % 512));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const koName = (path: string) =>
  path
    .split("/")
    .at(-1)!
    .replace(/\.ko\.[a-z]+$/, ".ko");

/** A plain .ko from an .ko.xz/.ko.zst (trixie compresses its modules; the initramfs' klibc insmod reads plain ones). */
function decompress(path: string, data: Uint8Array): Uint8Array {
  const tool = path.endsWith(".ko.xz") ? "xz" : path.endsWith(".ko.zst") ? "zstd" : undefined;
  if (!tool) return data;
  const r = Bun.spawnSync([tool, "-dc"], { stdin: data, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${tool} -dc ${path}: ${r.stderr.toString().trim()}`);
  return new Uint8Array(r.stdout);
}

/** The installer's initramfs: the image's initrd.img followed by our archive. */
export function liveInitrd(o: { initrd: string; squashfs: string; kernelVersion: string }): Uint8Array {
  const moddir = `usr/lib/modules/${o.kernelVersion}`; // merged /usr: unsquashfs does not follow /lib
  const dep = new TextDecoder().decode(unsquash(o.squashfs, `${moddir}/modules.dep`));
  const modules = moduleFiles(dep, LIVE_MODULES);
  const files = [
    {
      path: "scripts/blockhost-live",
      data: new Uint8Array(readFileSync(join(import.meta.dir, "live/blockhost-live"))),
      mode: 0o755,
    },
    ...modules.map((m) => ({
      path: `${LIVE_MODULE_DIR}/${koName(m)}`,
      data: decompress(m, unsquash(o.squashfs, `${moddir}/${m}`)),
      mode: 0o644,
    })),
    {
      path: `${LIVE_MODULE_DIR}/order`,
      data: new TextEncoder().encode(modules.map((m) => `${koName(m)}\n`).join("")),
      mode: 0o644,
    },
  ];
  const base = new Uint8Array(readFileSync(o.initrd));
  const extra = cpioNewc(files);
  // The kernel reads an uncompressed archive only from a 4-byte boundary; zeros between archives are skipped.
  const start = base.length + ((512 - (base.length % 512)) % 512);
  const out = new Uint8Array(start + extra.length);
  out.set(base);
  out.set(extra, start);
  return out;
}
