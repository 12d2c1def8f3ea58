/** Rates in each hypervisor's units, and the property strings and nftables rules that carry them. */
import { expect, test } from "bun:test";
import { rateBase, setPortRate } from "../../../src/agent/port-guard/rate-rules.ts";
import { bytesPerS, pveDisk, pveNet, pveRate } from "../../../src/provision/backends/limits.ts";

test("Mbit/s → Proxmox MiB/s (qemu-server multiplies rate= by 1024 × 1024) and → bytes/s for nftables", () => {
  expect(pveRate(100)).toBe("11.921");
  expect(pveRate(8)).toBe("0.954");
  expect(pveRate(4)).toBe("0.477");
  // Never 0: rate=0 means unlimited to Proxmox.
  expect(pveRate(0.001)).toBe("0.001");
  expect(bytesPerS(4)).toBe(500_000);
  expect(bytesPerS(1000)).toBe(125_000_000);
});

test("net0 keeps its model, MAC, bridge and firewall; rate= and link_down= are replaced or dropped", () => {
  const net0 = "virtio=BC:24:11:5E:00:01,bridge=vmbr0,firewall=1";
  expect(pveNet(net0, { rateMbit: 4, linkDown: false })).toBe(`${net0},rate=0.477`);
  expect(pveNet(`${net0},rate=0.477`, { rateMbit: 100, linkDown: true })).toBe(`${net0},rate=11.921,link_down=1`);
  expect(pveNet(`${net0},rate=11.921,link_down=1`, { rateMbit: null, linkDown: false })).toBe(net0);
  expect(pveDisk("local-lvm:vm-100-disk-0,size=8G,iops=9", { rateMbit: null, iops: 500, diskMbps: 50 })).toBe(
    "local-lvm:vm-100-disk-0,size=8G,iops=500,mbps=50",
  );
});

test("the nftables cap: both directions of one port, lifted by 0, every other port untouched", () => {
  const cap = setPortRate("bhv0123456789ab", 500_000);
  expect(cap).toContain(
    "add rule bridge blockhost_rate from_bhv0123456789ab limit rate over 500000 bytes/second burst 500000 bytes drop",
  );
  expect(cap).toContain(
    "add rule bridge blockhost_rate to_bhv0123456789ab limit rate over 500000 bytes/second burst 500000 bytes drop",
  );
  expect(cap.join("\n")).not.toMatch(/flush (table|ruleset)/);
  const lift = setPortRate("bhv0123456789ab", 0);
  expect(lift.filter((l) => l.startsWith("delete"))).toHaveLength(4);
  expect(lift.some((l) => l.includes("limit rate"))).toBe(false);
  expect(rateBase().join("\n")).toContain("type filter hook prerouting priority -250");
});
