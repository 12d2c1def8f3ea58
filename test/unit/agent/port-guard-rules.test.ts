// The port guard's names and derived addresses (the rules themselves are exercised in test/integration/network/port-guard.test.ts).
import { describe, expect, test } from "bun:test";
import { bindPort, linkLocalFromMac, PORT_RE, vmPortName } from "../../../src/agent/port-guard/rules.ts";

describe("port guard rules", () => {
  test("a VM's port name is bhv + 12 hex digits (an interface name fits 15), stable and distinct per VM", () => {
    expect(vmPortName("blockhost-001")).toMatch(PORT_RE);
    expect(vmPortName("blockhost-001")).toBe(vmPortName("blockhost-001"));
    expect(vmPortName("blockhost-001")).not.toBe(vmPortName("blockhost-002"));
  });

  test("the link-local address is the MAC's EUI-64 (universal/local bit flipped)", () => {
    expect(linkLocalFromMac("52:54:00:00:10:05")).toBe("fe80::5054:ff:fe00:1005");
    expect(linkLocalFromMac("52:54:00:ab:cd:ef")).toBe("fe80::5054:ff:feab:cdef");
  });

  test("without an IPv4 address the port sends no IPv4 at all (beyond a DHCP request)", () => {
    const rules = bindPort({ port: vmPortName("a"), mac: "52:54:00:00:00:01", ipv4: [], ipv6: [] }).join("\n");
    expect(rules).toContain("ether type ip drop");
    expect(rules).toContain("@th,64,128 != { 0xfe80000000000000505400fffe000001 } drop");
  });
});
