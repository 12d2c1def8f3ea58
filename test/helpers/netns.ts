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
