/** A real Debian 12 or 13 system with systemd as PID 1, booted by systemd-nspawn from a cached mmdebstrap rootfs. */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { controlDepends } from "../../scripts/iso/image.ts";

/**
 * What the guest holds before the .deb arrives: the package's Depends as debian/control states them (so a new
 * dependency changes the cache key and apt still installs offline) and the test's own tools.
 */
export const GUEST_PACKAGES = [
  ...new Set([
    ...controlDepends(readFileSync(join(import.meta.dir, "../../debian/control"), "utf8")),
    "systemd-sysv",
    "dbus",
    "iproute2",
    "iptables",
    "openssl",
    "ca-certificates",
    "curl",
    "procps",
    "passwd",
  ]),
];
/** The Debian releases BlockHost supports as hosts (Proxmox VE 8 runs on bookworm, 9 on trixie). */
export const GUEST_SUITES = { bookworm: "Debian 12", trixie: "Debian 13" } as const;
export type GuestSuite = keyof typeof GUEST_SUITES;
const MIRROR = "http://deb.debian.org/debian";
const CACHE = "/var/tmp/blockhost-nspawn";
const ENV = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"];

/** Why this machine cannot boot the guest, or undefined when it can. */
export function nspawnUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (systemd-nspawn)";
  for (const tool of ["/usr/bin/systemd-nspawn", "/usr/bin/mmdebstrap", "/usr/bin/nsenter"]) {
    if (!existsSync(tool)) return `missing ${tool} (apt-get install systemd-container mmdebstrap util-linux)`;
  }
  if (!existsSync("/sys/fs/cgroup")) return "no cgroup file system mounted";
  return undefined;
}

/** The rootfs directory, built once per set of inputs (suite, mirror, package list) and reused from /var/tmp. */
export function guestRootfs(suite: GuestSuite, log: (line: string) => void = () => {}): string {
  const key = createHash("sha256")
    .update(JSON.stringify([suite, MIRROR, GUEST_PACKAGES, 1]))
    .digest("hex")
    .slice(0, 16);
  const dir = join(CACHE, `rootfs-${key}`);
  if (existsSync(join(dir, "etc/os-release"))) return dir;
  mkdirSync(CACHE, { recursive: true });
  for (const stale of readdirSync(CACHE))
    if (stale.startsWith("building-")) rmSync(join(CACHE, stale), { recursive: true, force: true });
  const building = join(CACHE, `building-${key}-${process.pid}`);
  log(`building the ${GUEST_SUITES[suite]} guest rootfs with mmdebstrap (cached in ${dir})`);
  const r = Bun.spawnSync(
    ["mmdebstrap", "--variant=minbase", `--include=${GUEST_PACKAGES.join(",")}`, suite, building, MIRROR],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (r.exitCode !== 0)
    throw new Error(`mmdebstrap failed: ${r.stderr.toString().trim().split("\n").slice(-3).join(" | ")}`);
  renameSync(building, dir);
  return dir;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A booted guest: run commands in it, read its console, reach it over its veth link. */
export class Guest {
  private console = "";
  private constructor(
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly machine: string,
    readonly hostAddress: string,
    readonly guestAddress: string,
    private leader = 0,
  ) {}

  /**
   * Boot `rootfs` with a read-only lower layer (every change lands in a tmpfs: the cache stays clean),
   * `binds` read-only, and a private veth link 10.231.N.1 (host) ↔ 10.231.N.2 (guest).
   */
  static async boot(rootfs: string, binds: Record<string, string>): Promise<Guest> {
    const n = 1 + Math.floor(Math.random() * 250);
    const machine = `bhpkg${process.pid % 10000}${n}`;
    const argv = [
      "systemd-nspawn",
      "--quiet",
      "-D",
      rootfs,
      "--boot",
      "--register=no",
      "--keep-unit",
      "--volatile=overlay",
      `--machine=${machine}`,
      "--network-veth",
      "--console=read-only",
      ...Object.entries(binds).map(([host, guest]) => `--bind-ro=${host}:${guest}`),
    ];
    const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const guest = new Guest(proc, machine, `10.231.${n}.1`, `10.231.${n}.2`);
    void guest.drain(proc.stdout);
    void guest.drain(proc.stderr);
    try {
      await guest.waitForBoot();
    } catch (e) {
      await guest.shutdown();
      throw e;
    }
    return guest;
  }

  private async drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.console = (this.console + decoder.decode(chunk)).slice(-200_000);
  }

  /** Everything the guest wrote to its console (systemd status lines, journal+console units). */
  get consoleText(): string {
    return this.console;
  }

  private async waitForBoot(): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null)
        throw new Error(`systemd-nspawn exited (${this.proc.exitCode}): ${this.console.slice(-800)}`);
      if (!this.leader) this.leader = findLeader(this.proc.pid);
      if (this.leader) {
        const state = this.exec(["systemctl", "is-system-running"]).stdout.trim();
        if (state === "running" || state === "degraded") break;
      }
      await Bun.sleep(250);
    }
    if (!this.leader) throw new Error(`the guest did not boot: ${this.console.slice(-800)}`);
    const veth = `ve-${this.machine}`.slice(0, 15);
    hostRun(["ip", "addr", "add", `${this.hostAddress}/30`, "dev", veth]);
    hostRun(["ip", "link", "set", veth, "up"]);
    this.mustExec(["ip", "addr", "add", `${this.guestAddress}/30`, "dev", "host0"]);
    this.mustExec(["ip", "link", "set", "host0", "up"]);
  }

  /** Run argv inside the guest (all its namespaces, a clean environment), as root unless `user` is given. */
  exec(argv: string[], opts: { user?: string; stdin?: string; cwd?: string } = {}): ExecResult {
    const asUser = opts.user ? ["runuser", "-u", opts.user, "--", ...argv] : argv;
    // nsenter resolves --wd on the host, so the guest-side directory change happens inside.
    const inner = opts.cwd ? ["sh", "-c", 'cd "$0" && exec "$@"', opts.cwd, ...asUser] : asUser;
    const r = Bun.spawnSync(["nsenter", "-t", String(this.leader), "-a", ...ENV, ...inner], {
      stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  /** exec(), throwing with the command's stderr when it fails; returns stdout. */
  mustExec(argv: string[], opts: { user?: string; stdin?: string; cwd?: string } = {}): string {
    const r = this.exec(argv, opts);
    if (r.code !== 0)
      throw new Error(`guest: ${argv.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-1500)}`);
    return r.stdout;
  }

  /** Write a file in the guest (through the guest's own tools, so owners and modes are the guest's). */
  writeFile(path: string, content: string, mode = "0600", owner = "root:root"): void {
    this.mustExec(["install", "-m", mode, "-o", owner.split(":")[0]!, "-g", owner.split(":")[1]!, "/dev/stdin", path], {
      stdin: content,
    });
  }

  /** Power the guest off and wait for nspawn to exit (SIGKILL after 30 s). */
  async shutdown(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 30_000);
    await this.proc.exited;
    clearTimeout(timer);
  }
}

/** The guest's PID 1 as seen from the host: the descendant of nspawn whose pid in its own namespace is 1. */
function findLeader(nspawnPid: number): number {
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return "";
    }
  };
  const children = (pid: number) =>
    read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
  let level = children(nspawnPid);
  for (let depth = 0; depth < 3; depth++) {
    for (const pid of level) {
      const nspid = /^NSpid:\s+(.*)$/m
        .exec(read(`/proc/${pid}/status`))?.[1]
        ?.trim()
        .split(/\s+/);
      if (nspid && nspid.length > 1 && nspid.at(-1) === "1" && read(`/proc/${pid}/comm`).trim() === "systemd")
        return pid;
    }
    level = level.flatMap(children);
  }
  return 0;
}

function hostRun(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
}
