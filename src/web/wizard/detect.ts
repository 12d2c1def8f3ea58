/** What the wizard shows as detected: network interfaces with their addresses, block devices, bridges. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

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
