/**
 * The demo's template build, run as a child `blockhost template build` in a process group of its own and
 * in a staging directory of its own, so that stopping the demo at any moment ends mmdebstrap and every tool
 * under it and leaves no half-built directory behind.
 */
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { diesWithParent, processAlive } from "../core/process.ts";
import { initrdPath, kernelPath, manifestPath } from "../core/template/manifest.ts";
import type { DemoLifetime } from "./lifetime.ts";
import { selfArgv } from "./services.ts";

const STAGING_PREFIX = ".dev-build-";
/** How long mmdebstrap gets to unmount and clean up after SIGTERM before the group is killed. */
const TERM_GRACE_MS = 20_000;

/** Build the template at `output` (the cache's name for it) through a child process; the lifetime can stop it. */
export async function buildTemplateInChild(
  lifetime: DemoLifetime,
  o: {
    output: string;
    binary: string;
    rootfsCache: string;
    say: (line: string) => void;
    /** The build's argv for `image` (tests stand a small script in for `blockhost template build`). */
    command?: (image: string) => string[];
  },
): Promise<void> {
  const cacheDir = dirname(o.output);
  sweepAbandoned(cacheDir);
  const staging = join(cacheDir, `${STAGING_PREFIX}${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const image = join(staging, basename(o.output));
  // setsid: the build leads a new process group (its pid is the group's id), so one kill reaches every tool.
  const proc = Bun.spawn(
    [
      "/usr/bin/setsid",
      ...diesWithParent(
        o.command?.(image) ?? [
          ...selfArgv(),
          "template",
          "build",
          "--output",
          image,
          "--binary",
          o.binary,
          "--rootfs-cache",
          o.rootfsCache,
        ],
      ),
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe", cwd: "/" },
  );
  await lifetime.add("stop the template build", () => stopBuild(proc, staging, o.rootfsCache));
  // The build's progress lines are on its stderr; the last one says why it failed.
  let last = "";
  const relayed = relay(proc.stderr, (line) => {
    last = line;
    o.say(line);
  });
  const code = await proc.exited;
  await relayed;
  if (lifetime.stopping) throw new BlockhostError("E_INTERNAL", "the demo is stopping");
  if (code !== 0) throw new BlockhostError("E_COMMAND_FAILED", `blockhost template build failed: ${last}`);
  for (const f of [kernelPath(image), initrdPath(image), manifestPath(image), image])
    if (existsSync(f)) renameSync(f, join(cacheDir, basename(f)));
  removeTree(staging);
}

async function relay(stream: ReadableStream<Uint8Array>, say: (line: string) => void): Promise<void> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const lines = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const l of lines) if (l.trim()) say(l.trim());
  }
}

/** SIGTERM the build's group (mmdebstrap unmounts and cleans up), SIGKILL what is left, then remove its files. */
async function stopBuild(proc: Subprocess, staging: string, rootfsCache: string): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    signalGroup(proc.pid, "SIGTERM");
    const ended = await Promise.race([proc.exited.then(() => true), Bun.sleep(TERM_GRACE_MS).then(() => false)]);
    if (!ended) signalGroup(proc.pid, "SIGKILL");
    await proc.exited;
  }
  // The group's other members (apt, dpkg, tar…) may outlive the leader for a moment.
  for (let i = 0; i < 100 && groupAlive(proc.pid); i++) {
    if (i === 50) signalGroup(proc.pid, "SIGKILL");
    await Bun.sleep(100);
  }
  removeTree(staging);
  removeRootfsTemp(rootfsCache, proc.pid);
}

function signalGroup(pgid: number, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove a build tree without ever crossing into a file system mounted inside it (mmdebstrap mounts /proc,
 * /sys and /dev into the tree it builds): lazily unmount whatever is still mounted there first.
 */
function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) Bun.spawnSync(["/usr/bin/umount", "--lazy", m], { stdout: "ignore", stderr: "ignore" });
  Bun.spawnSync(["/usr/bin/rm", "-rf", "--one-file-system", "--", dir], { stdout: "ignore", stderr: "ignore" });
}

/** The root filesystem tarball a killed build was writing (`rootfs-….tar.tmp-<pid>`). */
function removeRootfsTemp(rootfsCache: string, pid: number): void {
  if (!existsSync(rootfsCache)) return;
  for (const n of readdirSync(rootfsCache))
    if (n.endsWith(`.tmp-${pid}`)) Bun.spawnSync(["/usr/bin/rm", "-f", "--", join(rootfsCache, n)]);
}

/** Staging directories of demos that were killed outright (SIGKILL leaves no chance to clean up). */
function sweepAbandoned(cacheDir: string): void {
  if (!existsSync(cacheDir)) return;
  for (const n of readdirSync(cacheDir)) {
    const pid = Number(new RegExp(`^${STAGING_PREFIX.replace(".", "\\.")}(\\d+)-`).exec(n)?.[1]);
    if (pid && !processAlive(pid)) removeTree(join(cacheDir, n));
  }
}
