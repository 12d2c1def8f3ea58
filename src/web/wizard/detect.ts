/** What the wizard shows as detected: interfaces, default route, disks, free space, bridges, a Proxmox host. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { dirname, join } from "node:path";
import { parseStorageConfig } from "../../agent/pve-storage.ts";
import { paths } from "../../core/paths.ts";

export interface Interface {
  name: string;
  addresses: string[];
  bridge: boolean;
}
export interface Disk {
  name: string;
  size_gb: number;
}

export function detectInterfaces(): Interface[] {
  return Object.entries(networkInterfaces())
    .filter(([name]) => name !== "lo")
    .map(([name, addrs]) => ({
      name,
      addresses: (addrs ?? []).map((a) => `${a.address}/${a.cidr?.split("/")[1] ?? ""}`),
      bridge: existsSync(`/sys/class/net/${name}/bridge`),
    }));
}

/** Whole disks from sysfs (loop, ram and device-mapper nodes left out). */
export function detectDisks(): Disk[] {
  try {
    return readdirSync("/sys/block")
      .filter((n) => !/^(loop|ram|dm-|zram|sr)/.test(n))
      .map((name) => {
        const sectors = Number(readFileSync(`/sys/block/${name}/size`, "utf8").trim()) || 0;
        return { name, size_gb: Math.round((sectors * 512) / 1e9) };
      });
  } catch {
    return [];
  }
}

/** The first IPv4 address that is not loopback (the default host name for HTTPS). */
export function primaryIpv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

/** The host's default IPv4 route from /proc/net/route (gateway and interface), when it has one. */
export function defaultRoute(): { gateway: string; iface: string } | undefined {
  try {
    for (const line of readFileSync("/proc/net/route", "utf8").split("\n").slice(1)) {
      const [iface, dest, gw] = line.trim().split(/\s+/);
      if (!iface || dest !== "00000000" || !gw) continue;
      // Little-endian hex, as the kernel prints it.
      const n = Number.parseInt(gw, 16);
      return { gateway: [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join("."), iface };
    }
  } catch {
    /* no procfs: nothing to show */
  }
  return undefined;
}

export interface ProxmoxHost {
  node: string;
  /** Storages in storage.cfg that hold VM disks (content includes images, not disabled). */
  storages: string[];
  /** The cluster's nodes (`/etc/pve/nodes/*` when `/etc/pve/corosync.conf` exists); [] on a lone node. */
  clusterNodes: string[];
}

/** pmxcfs has `corosync.conf` only on a cluster; each member has a directory under `nodes/`. */
function detectClusterNodes(): string[] {
  const pve = dirname(paths.pveStorageConfig);
  try {
    if (!existsSync(join(pve, "corosync.conf"))) return [];
    return readdirSync(join(pve, "nodes"))
      .filter((n) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(n))
      .sort();
  } catch {
    return [];
  }
}

/**
 * A Proxmox VE host, read from what pmxcfs exposes (`/etc/pve/storage.cfg`); the node name is the
 * host name, as Proxmox names nodes. pvesh is not called: it needs root and the wizard runs unprivileged.
 */
export function detectProxmox(): ProxmoxHost | undefined {
  let text: string;
  try {
    text = readFileSync(paths.pveStorageConfig, "utf8");
  } catch {
    return undefined;
  }
  const storages = parseStorageConfig(text)
    .filter((s) => (s.props.content ?? "images").split(",").includes("images"))
    .filter((s) => s.props.disable === undefined || s.props.disable === "0")
    .map((s) => s.id);
  return { node: hostname().split(".")[0]!, storages, clusterNodes: detectClusterNodes() };
}
