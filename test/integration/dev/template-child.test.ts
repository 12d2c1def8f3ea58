/**
 * The demo's template build stopped half-way: its whole process group ends (mmdebstrap and everything it
 * started) and its staging directory goes, without crossing into a file system mounted inside it (as
 * mmdebstrap mounts /proc and /dev into the tree it builds). A small script stands in for the build: a
 * real one downloads Debian packages.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processAlive } from "../../../src/core/process.ts";
import { DemoLifetime } from "../../../src/dev/lifetime.ts";
import { buildTemplateInChild } from "../../../src/dev/template-child.ts";
import { eventually } from "../../helpers/engine-env.ts";

const skip = process.getuid?.() === 0 ? "" : "needs root (mount)";
if (skip) console.log(`skip: template build stop: ${skip}`);

const mountedUnder = (dir: string) =>
  readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4]?.startsWith(`${dir}/`));

test.skipIf(Boolean(skip))(
  "a stop during the build kills the build's process group and removes its staging dir, mounts and partial tarball",
  async () => {
    const cache = mkdtempSync(join(tmpdir(), "blockhost-tplstop-"));
    const rootfsCache = join(cache, "rootfs-cache");
    mkdirSync(rootfsCache);
    const sentinel = join(cache, "keep-me"); // stands for the host's own files behind a mount
    writeFileSync(sentinel, "");
    const lifetime = new DemoLifetime();
    const grandchild = join(cache, "grandchild.pid");
    // Like mmdebstrap: a tree with a bind mount inside, a partial tarball named by its pid, a long-running child.
    const script = [
      'tree="$(dirname "$0")/rootfs"',
      'mkdir -p "$tree/host"',
      `mount --bind ${cache} "$tree/host"`,
      `: > ${rootfsCache}/rootfs-bookworm-0123456789abcdef.tar.tmp-$$`,
      "echo 'building (stand-in)' >&2",
      `sleep 600 & echo $! > ${grandchild}`,
      "wait",
    ].join("\n");
    const lines: string[] = [];
    const build = buildTemplateInChild(lifetime, {
      output: join(cache, "template-0123456789abcdef.qcow2"),
      binary: "/bin/true",
      rootfsCache,
      say: (l) => lines.push(l),
      command: (image) => ["/bin/sh", "-c", script, image],
    }).catch((e: Error) => e);
    try {
      const sleeper = Number(
        await eventually(() => existsSync(grandchild) && readFileSync(grandchild, "utf8"), "build running"),
      );
      await eventually(() => lines.includes("building (stand-in)"), "progress relayed");
      expect(mountedUnder(cache)).toBe(true);
      await lifetime.stop();
      expect(await build).toBeInstanceOf(Error);
      expect(processAlive(sleeper)).toBe(false);
      expect(mountedUnder(cache)).toBe(false);
      expect(readdirSync(cache).filter((n) => n.startsWith(".dev-build-"))).toEqual([]);
      expect(readdirSync(rootfsCache)).toEqual([]);
      expect(existsSync(sentinel)).toBe(true);
    } finally {
      await lifetime.stop();
      for (const l of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
        const m = l.split(" ")[4];
        if (m?.startsWith(`${cache}/`)) Bun.spawnSync(["/usr/bin/umount", "--lazy", m]);
      }
      rmSync(cache, { recursive: true, force: true });
    }
  },
  60_000,
);
