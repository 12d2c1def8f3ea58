/** Network namespaces for network action tests. */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BinaryTable } from "../../src/agent/binaries.ts";
import { tempDir } from "./binary.ts";

/** A network namespace the test owns, and agent binaries that act only inside it. */
export interface TestNetns {
  readonly name: string;
  /** Binary table entries (ip, iptables, ip6tables, bridge) wrapped in `ip netns exec NAME`. */
  readonly binaries: Partial<BinaryTable>;
  /** Run a command inside the namespace; returns stdout (throws on failure). */
  exec(...argv: string[]): string;
  cleanup(): void;
}

const IP = "/usr/sbin/ip";
const TOOLS = {
  ip: "/usr/sbin/ip",
  iptables: "/usr/sbin/iptables",
  ip6tables: "/usr/sbin/ip6tables",
  bridge: "/usr/sbin/bridge",
  sysctl: "/usr/sbin/sysctl",
} as const;

/** Why this machine cannot run namespace tests, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (ip netns add)";
  const missing = Object.values(TOOLS).filter((t) => !existsSync(t));
  if (missing.length) return `missing ${missing.join(", ")} (apt-get install iproute2 iptables)`;
  return undefined;
}

/** Create `bh-<random>` with a vmbr0 bridge and a tap100i0 port (a veth enslaved to it), all up. */
export function createTestNetns(): TestNetns {
  const name = `bh-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const run = (argv: string[]) => {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
    return r.stdout.toString();
  };
  run([IP, "netns", "add", name]);
  const exec = (...argv: string[]) => run([IP, "netns", "exec", name, ...argv]);
  const { dir, cleanup } = tempDir("bh-netns-");
  try {
    exec(IP, "link", "set", "lo", "up");
    exec(IP, "link", "add", "vmbr0", "type", "bridge");
    exec(IP, "link", "add", "tap100i0", "type", "veth", "peer", "name", "tap100p");
    exec(IP, "link", "set", "tap100i0", "master", "vmbr0");
    for (const dev of ["vmbr0", "tap100i0", "tap100p"]) exec(IP, "link", "set", dev, "up");
  } catch (e) {
    run([IP, "netns", "del", name]);
    cleanup();
    throw e;
  }
  const binaries: Partial<BinaryTable> = {};
  for (const [tool, path] of Object.entries(TOOLS)) {
    const wrapper = join(dir, tool);
    writeFileSync(wrapper, `#!/bin/sh\nexec ${IP} netns exec ${name} ${path} "$@"\n`);
    chmodSync(wrapper, 0o755);
    binaries[tool as keyof typeof TOOLS] = wrapper;
  }
  return {
    name,
    binaries,
    exec,
    cleanup() {
      Bun.spawnSync([IP, "netns", "del", name]);
      cleanup();
    },
  };
}

/** A bare namespace with lo up (a "remote" router, a VM's end of a tap, a broker), and a way to run commands in it. */
export interface PlainNetns {
  readonly name: string;
  exec(...argv: string[]): string;
  cleanup(): void;
}

export function createPlainNetns(): PlainNetns {
  const name = `bh-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const run = (argv: string[]) => {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${(r.stdout.toString() + r.stderr.toString()).trim()}`);
    return r.stdout.toString();
  };
  run([IP, "netns", "add", name]);
  const exec = (...argv: string[]) => run([IP, "netns", "exec", name, ...argv]);
  exec(IP, "link", "set", "lo", "up");
  return { name, exec, cleanup: () => void Bun.spawnSync([IP, "netns", "del", name]) };
}

/** An executable that runs `program` inside `netns` (for an agent binary table entry). */
export function netnsWrapper(dir: string, netns: string, program: string): string {
  const file = join(dir, `${program.split("/").pop()}-in-${netns}`);
  writeFileSync(file, `#!/bin/sh\nexec ${IP} netns exec ${netns} ${program} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

const PING = "/usr/bin/ping";

function spawn(argv: string[]): { ok: boolean; out: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString() + r.stderr.toString() };
}

/** ping6 once from a namespace, retrying a few times (a proxied NDP answer is delayed up to 0.8 s). */
export async function pings(ns: { name: string }, to: string, tries = 4): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (spawn([IP, "netns", "exec", ns.name, PING, "-6", "-c", "1", "-W", "2", to]).ok) return true;
    await Bun.sleep(200);
  }
  return false;
}

export async function settled(...all: { exec: (...a: string[]) => string }[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (all.every((ns) => ns.exec(IP, "-6", "addr", "show", "tentative").trim() === "")) return;
    await Bun.sleep(100);
  }
  throw new Error("IPv6 duplicate address detection did not finish");
}

export const WG = "/usr/bin/wg";
export const WIREGUARD_GO = "/usr/bin/wireguard-go";

/** Why this machine cannot run a userspace WireGuard tunnel between namespaces, or undefined when it can. */
export function wireguardUnavailable(): string | undefined {
  if (!existsSync(WG) || !existsSync(WIREGUARD_GO)) return "wireguard-tools or wireguard-go missing";
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun for userspace WireGuard";
  return undefined;
}

/** A veth pair: `aDev` in namespace a with `aAddr`, `bDev` in b with `bAddr` (CIDR), both up. */
export function linkNamespaces(
  a: { name: string; exec: (...argv: string[]) => string },
  aDev: string,
  aAddr: string,
  b: { name: string; exec: (...argv: string[]) => string },
  bDev: string,
  bAddr: string,
): void {
  const peer = `p${Math.random().toString(36).slice(2, 10)}`;
  a.exec(IP, "link", "add", aDev, "type", "veth", "peer", "name", peer);
  a.exec(IP, "link", "set", peer, "netns", b.name);
  b.exec(IP, "link", "set", peer, "name", bDev);
  for (const [ns, dev, addr] of [
    [a, aDev, aAddr],
    [b, bDev, bAddr],
  ] as const) {
    ns.exec(IP, ...(addr.includes(":") ? ["-6"] : []), "addr", "add", addr, "dev", dev);
    ns.exec(IP, "link", "set", dev, "up");
  }
}

/** A VM's side of the host's tap100i0: a namespace holding tap100p (the veth peer) as its eth0, up. */
export function vmBehindTap(host: TestNetns): PlainNetns {
  const vm = createPlainNetns();
  host.exec(IP, "link", "set", "tap100p", "netns", vm.name);
  vm.exec(IP, "link", "set", "tap100p", "name", "eth0");
  vm.exec(IP, "link", "set", "eth0", "up");
  return vm;
}
