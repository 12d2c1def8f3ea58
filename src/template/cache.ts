/** A built template kept between runs (keyed by its inputs' digest) and its copy into a root's libvirt storage. */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { type TemplateBootMode, buildTemplate, templateInputsKey } from "./build.ts";
import {
  initrdPath,
  kernelPath,
  manifestPath,
  readManifest,
  type TemplateManifest,
} from "../core/template/manifest.ts";
import { sha256File } from "./tools.ts";
import { DEFAULT_OS, type OsId, libvirtTemplateFor } from "../core/template/os.ts";

export interface CachedTemplate {
  image: string;
  manifest: TemplateManifest;
  builtNow: boolean;
  seconds: number;
}

/**
 * The template for this guest binary from `cacheDir` when one with the same inputs is there, else
 * built into it (the Debian root filesystem tarball is cached in `cacheDir/rootfs-cache`). `build`
 * replaces the in-process build (the VM test drives the `template build` command instead).
 */
export async function cachedTemplate(o: {
  cacheDir: string;
  binary: string;
  say?: (line: string) => void;
  build?: (output: string, rootfsCache: string) => Promise<void>;
  /** The bootloader variant (kept in its own cacheDir: a cache dir holds one current template). */
  boot?: TemplateBootMode;
  /** The OS (default debian-12); a cache dir holds one current template, so give each OS its own. */
  os?: OsId;
}): Promise<CachedTemplate> {
  const key = templateInputsKey({ binarySha256: await sha256File(o.binary), boot: o.boot, os: o.os });
  const image = join(o.cacheDir, `template-${key.slice(0, 16)}.qcow2`);
  if (existsSync(image) && existsSync(manifestPath(image)))
    return { image, manifest: readManifest(image), builtNow: false, seconds: 0 };
  mkdirSync(o.cacheDir, { recursive: true, mode: 0o755 });
  const rootfsCache = join(o.cacheDir, "rootfs-cache");
  const started = performance.now();
  o.say?.(`building the VM template (Debian packages via mmdebstrap; a few minutes, once) → ${image}`);
  if (o.build) await o.build(image, rootfsCache);
  else await buildTemplate({ output: image, binary: o.binary, rootfsCache, boot: o.boot, os: o.os });
  // Templates of earlier binaries are never used again (each is ~800 MiB); VMs run from copies.
  for (const n of readdirSync(o.cacheDir))
    if (/^template-[0-9a-f]{16}\.qcow2/.test(n) && !n.startsWith(basename(image)))
      rmSync(join(o.cacheDir, n), { force: true });
  return { image, manifest: readManifest(image), builtNow: true, seconds: (performance.now() - started) / 1000 };
}

/**
 * Copy a template (image, kernel, initrd, manifest) into `templatesDir` under `root` as
 * blockhost-template.qcow2, root-owned and world-readable, each file renamed into place.
 */
export function installTemplate(root: string, templatesDir: string, image: string, os: OsId = DEFAULT_OS): string {
  // qemu runs as libvirt-qemu: every directory from the root down must be traversable.
  let dir = root;
  for (const part of ["", ...relative(root, templatesDir).split("/")]) {
    dir = join(dir, part);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
  }
  const dest = libvirtTemplateFor(join(templatesDir, "blockhost-template.qcow2"), os);
  for (const [from, to] of [
    [kernelPath(image), kernelPath(dest)],
    [initrdPath(image), initrdPath(dest)],
    [manifestPath(image), manifestPath(dest)],
    [image, dest],
  ] as const) {
    copyFileSync(from, `${to}.tmp`);
    chmodSync(`${to}.tmp`, 0o644);
    renameSync(`${to}.tmp`, to);
  }
  return dest;
}
