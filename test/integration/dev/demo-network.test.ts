/** Two demos at once get their own libvirt networks and bridges: stopping one leaves the other's running. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { libvirtReachable, startDemoNetwork } from "../../../src/dev/libvirt.ts";
import { virsh } from "../../../src/dev/libvirt-network.ts";
import { DemoLifetime } from "../../../src/dev/lifetime.ts";

const skip = libvirtReachable() ? "" : "needs root and a libvirt daemon on qemu:///system";
if (skip) console.log(`skip: demo networks: ${skip}`);

const active = (name: string) =>
  virsh("net-info", name)
    .stdout.toString()
    .match(/^Active:\s+(\S+)/m)?.[1] === "yes";
const bridgeExists = (bridge: string) => Bun.spawnSync(["/usr/sbin/ip", "link", "show", bridge]).exitCode === 0;

test.skipIf(Boolean(skip))(
  "two demos: distinct network names, bridges and subnets; stopping one keeps the other",
  async () => {
    // Ids no live process has (above the kernel's pid_max), unique per test run.
    const base = 4_200_000 + Math.floor(Math.random() * 500_000);
    const dir = mkdtempSync(join(tmpdir(), "blockhost-demo-net-"));
    const [one, two] = [new DemoLifetime(), new DemoLifetime()];
    try {
      const a = await startDemoNetwork(one, base, dir);
      const b = await startDemoNetwork(two, base + 1, dir);
      expect(a.name).not.toBe(b.name);
      expect(a.bridge).not.toBe(b.bridge);
      expect(a.subnet.network).not.toBe(b.subnet.network);
      expect(a.bridge.length).toBeLessThanOrEqual(15);
      expect([active(a.name), active(b.name), bridgeExists(a.bridge), bridgeExists(b.bridge)]).toEqual([
        true,
        true,
        true,
        true,
      ]);
      await one.stop();
      expect(virsh("net-info", a.name).exitCode).not.toBe(0); // undefined
      expect(bridgeExists(a.bridge)).toBe(false);
      expect(active(b.name)).toBe(true);
      expect(bridgeExists(b.bridge)).toBe(true);
    } finally {
      await one.stop();
      await two.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);
