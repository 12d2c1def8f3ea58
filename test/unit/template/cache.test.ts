/** The template cache: reuse by inputs, build when absent, drop templates of earlier binaries, install copies. */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachedTemplate, installTemplate } from "../../../src/template/cache.ts";
import type { TemplateManifest } from "../../../src/core/template/manifest.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "bh-tplcache-"));
  dirs.push(d);
  return d;
};
const sha = "a".repeat(64);
const manifest = (image: string): TemplateManifest => ({
  format: 1,
  image,
  sha256: sha,
  size_bytes: 4,
  virtual_size_gb: 3,
  built_at: "2026-12-01T00:00:00.000Z",
  build_seconds: 1,
  inputs_sha256: sha,
  debian_suite: "bookworm",
  apt_sources: ["deb http://deb.debian.org/debian bookworm main"],
  packages: ["linux-image-amd64"],
  blockhost_binary: "/usr/local/bin/blockhost",
  blockhost_binary_sha256: sha,
  vmauth_files: ["/etc/pam.d/sshd"],
  cloud_init: true,
  qemu_guest_agent: true,
  boot: { mode: "direct-kernel", kernel: "k", initrd: "i", cmdline: "root=LABEL=rootfs" },
});
/** A stand-in for the mmdebstrap build: writes the four files a real build leaves. */
const fakeBuild = (calls: string[]) => async (output: string) => {
  calls.push(output);
  for (const ext of [".vmlinuz", ".initrd"]) writeFileSync(output + ext, "boot");
  writeFileSync(`${output}.json`, JSON.stringify(manifest("x.qcow2")));
  writeFileSync(output, "disk");
};

test("builds once per guest binary, reuses it, and drops the templates of earlier binaries", async () => {
  const cacheDir = tmp();
  const binary = join(tmp(), "blockhost-baseline");
  writeFileSync(binary, "binary v1");
  const calls: string[] = [];
  const first = await cachedTemplate({ cacheDir, binary, build: fakeBuild(calls) });
  expect(first.builtNow).toBe(true);
  const again = await cachedTemplate({ cacheDir, binary, build: fakeBuild(calls) });
  expect(again).toMatchObject({ builtNow: false, image: first.image });
  expect(calls).toHaveLength(1);

  writeFileSync(binary, "binary v2");
  const second = await cachedTemplate({ cacheDir, binary, build: fakeBuild(calls) });
  expect(second.image).not.toBe(first.image);
  const left = readdirSync(cacheDir).filter((n) => n.startsWith("template-"));
  expect(left.sort()).toEqual(
    [".qcow2", ".qcow2.initrd", ".qcow2.json", ".qcow2.vmlinuz"].map((e) =>
      second.image.split("/").at(-1)!.replace(".qcow2", e),
    ),
  );
});

test("installTemplate copies image, kernel, initrd and manifest world-readable under a traversable path", async () => {
  const cacheDir = tmp();
  const binary = join(tmp(), "blockhost-baseline");
  writeFileSync(binary, "binary");
  const tpl = await cachedTemplate({ cacheDir, binary, build: fakeBuild([]) });
  const root = tmp();
  const dest = installTemplate(root, join(root, "var/lib/libvirt/blockhost/templates"), tpl.image);
  for (const f of [dest, `${dest}.vmlinuz`, `${dest}.initrd`, `${dest}.json`]) {
    expect(existsSync(f)).toBe(true);
    expect(statSync(f).mode & 0o777).toBe(0o644);
  }
  for (const d of [root, join(root, "var/lib/libvirt"), join(root, "var/lib/libvirt/blockhost/templates")])
    expect(statSync(d).mode & 0o777).toBe(0o755);
});
