/**
 * `npm run iso`: dist/blockhost-<version>-amd64.iso, an installer for blank machines built from Debian packages and
 * our .deb alone, with a manifest of its inputs beside it (dist/blockhost-<version>-amd64.iso.manifest.json).
 * Usage (root): bun scripts/iso/build.ts [--suite bookworm|trixie] [--deb FILE] [--output FILE]
 *   [--unattended "blockhost.disk=/dev/vda blockhost.erase=yes"] [--cache DIR]
 * --unattended adds a default menu entry with those words on the kernel command line (fleets, tests).
 */
import { createHash } from "node:crypto";
import { copyFileSync, linkSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../../package.json" with { type: "json" };
import { grubConfig, unattendedWords } from "./grub.ts";
import { DEFAULT_CACHE, ensureImage, mirrors, SUITES, type Suite } from "./image.ts";
import { liveInitrd } from "./live.ts";

const REPO = join(import.meta.dir, "../..");
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C.UTF-8" };

export interface IsoOptions {
  suite: Suite;
  deb: string;
  output: string;
  unattended?: string;
  cache: string;
  say: (line: string) => void;
}

export interface IsoResult {
  iso: string;
  manifest: string;
  bytes: number;
  seconds: number;
  imageSeconds: number;
  imageBuilt: boolean;
}

/** The default output name: the release the issue names for Debian 12, the Debian release in it otherwise. */
export function defaultIsoName(version: string, suite: Suite): string {
  return suite === "bookworm" ? `blockhost-${version}-amd64.iso` : `blockhost-${version}-debian13-amd64.iso`;
}

function sha256(file: string): string {
  return run(["sha256sum", file]).split(" ")[0]!;
}

function run(argv: string[], cwd?: string): string {
  const r = Bun.spawnSync(argv, { cwd, stdout: "pipe", stderr: "pipe", env: ENV });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.exitCode}): ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

function toolVersion(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: ENV });
  return `${r.stdout.toString()}${r.stderr.toString()}`.trim().split("\n")[0] ?? "?";
}

function place(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to); // the squashfs is hundreds of MB: a link when the cache is on the same file system
  } catch {
    copyFileSync(from, to);
  }
}

/** The .deb's control fields (Package, Version). */
function debField(deb: string, field: string): string {
  return run(["dpkg-deb", "-f", deb, field]).trim();
}

/** A flat repository's Release (apt refuses a source without one); unsigned: the ISO itself is what is trusted. */
function flatRelease(packages: string): string {
  const hash = createHash("sha256").update(packages).digest("hex");
  return [
    "Origin: BlockHost",
    "Label: BlockHost installer ISO",
    "Suite: blockhost-iso",
    "Codename: blockhost-iso",
    `Date: ${new Date().toUTCString().replace("GMT", "UTC")}`,
    "Architectures: amd64",
    "SHA256:",
    ` ${hash} ${Buffer.byteLength(packages)} Packages`,
    "",
  ].join("\n");
}

export function buildIso(o: IsoOptions): IsoResult {
  const started = performance.now();
  if (o.unattended !== undefined) unattendedWords(o.unattended); // refuse bad words before minutes of building
  if (debField(o.deb, "Package") !== "blockhost") throw new Error(`${o.deb} is not a blockhost package`);
  const version = debField(o.deb, "Version");
  const image = ensureImage(o.suite, o.cache, o.say);
  o.say(image.built ? `image built in ${Math.round(image.seconds)} s` : `image from the cache (${image.dir})`);

  const stage = join(dirname(o.output), `iso-stage-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  try {
    place(image.squashfs, join(stage, "blockhost/target.squashfs"));
    place(image.vmlinuz, join(stage, "live/vmlinuz"));
    writeFileSync(join(stage, "live/initrd.img"), liveInitrd(image));
    for (const f of ["blockhost-installer.service", "blockhost-installer.target"])
      place(join(import.meta.dir, "live", f), join(stage, "blockhost/live", f));
    place(join(import.meta.dir, "install.sh"), join(stage, "blockhost/install.sh"));
    writeFileSync(join(stage, "blockhost/version"), `${version}\n`);
    // The ISO's apt repository (flat): the .deb, which the image's packages satisfy without a network.
    place(o.deb, join(stage, "pool", basename(o.deb)));
    const packages = run(["dpkg-scanpackages", "--multiversion", "."], join(stage, "pool"));
    writeFileSync(join(stage, "pool/Packages"), packages);
    writeFileSync(join(stage, "pool/Release"), flatRelease(packages));
    mkdirSync(join(stage, "boot/grub"), { recursive: true });
    writeFileSync(
      join(stage, "boot/grub/grub.cfg"),
      grubConfig({ version, release: SUITES[o.suite], unattended: o.unattended }),
    );
    const manifest = {
      name: basename(o.output),
      blockhost: { version, deb: basename(o.deb), sha256: sha256(o.deb) },
      debian: { suite: o.suite, release: SUITES[o.suite], mirrors: mirrors(o.suite), snapshot: image.suites },
      packages: Object.fromEntries([...image.packages].sort(([a], [b]) => a.localeCompare(b))),
      image: { cache_key: image.key, squashfs_sha256: sha256(image.squashfs) },
      unattended: o.unattended ?? null,
      tools: {
        mmdebstrap: toolVersion(["mmdebstrap", "--version"]),
        "grub-mkrescue": toolVersion(["grub-mkrescue", "--version"]),
        xorriso: toolVersion(["xorriso", "-version"]),
        mksquashfs: toolVersion(["mksquashfs", "-version"]),
      },
    };
    writeFileSync(join(stage, "blockhost/manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

    mkdirSync(dirname(o.output), { recursive: true });
    rmSync(o.output, { force: true });
    o.say("grub-mkrescue (BIOS El Torito + UEFI image, hybrid for USB sticks)");
    run(["grub-mkrescue", "-o", o.output, stage, "--", "-volid", "BLOCKHOST"]);
    const bytes = statSync(o.output).size;
    const seconds = (performance.now() - started) / 1000;
    const manifestPath = `${o.output}.manifest.json`;
    const full = { ...manifest, iso_sha256: sha256(o.output), iso_bytes: bytes, built_at: new Date().toISOString() };
    writeFileSync(manifestPath, `${JSON.stringify(full, null, 2)}\n`);
    return {
      iso: o.output,
      manifest: manifestPath,
      bytes,
      seconds,
      imageSeconds: image.seconds,
      imageBuilt: image.built,
    };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      suite: { type: "string", default: "bookworm" },
      deb: { type: "string" },
      output: { type: "string" },
      unattended: { type: "string" },
      cache: { type: "string", default: DEFAULT_CACHE },
    },
  });
  const suite = values.suite as Suite;
  if (!(suite in SUITES)) throw new Error(`--suite: one of ${Object.keys(SUITES).join(", ")}`);
  const deb = values.deb ?? join(REPO, `dist/blockhost_${pkg.version}_amd64.deb`);
  const r = buildIso({
    suite,
    deb,
    output: values.output ?? join(REPO, "dist", defaultIsoName(pkg.version, suite)),
    unattended: values.unattended,
    cache: values.cache!,
    say: (line) => console.log(line),
  });
  const mib = (r.bytes / 2 ** 20).toFixed(0);
  console.log(`built ${r.iso} (${mib} MiB) in ${Math.round(r.seconds)} s; inputs in ${r.manifest}`);
}
