/** Manual IPv6 prefix validation and the sysctl.d text the agent writes. */
import { expect, test } from "bun:test";
import { ipv6SysctlText } from "../../../src/agent/actions/ipv6-host.ts";
import { parseHostPrefix } from "../../../src/network/prefix-host.ts";

test("a prefix gives the bridge ::1 and the host ::2, canonicalised", () => {
  expect(parseHostPrefix("2001:0db8:0001:0000::/64")).toEqual({
    prefix: "2001:db8:1::/64",
    bits: 64,
    bridgeAddress: "2001:db8:1::1",
    hostAddress: "2001:db8:1::2",
  });
  expect(parseHostPrefix(" 2001:db8::100/120 ").hostAddress).toBe("2001:db8::102");
  expect(parseHostPrefix("2001:db8::/48").bits).toBe(48);
});

test("lengths outside /48../120, set host bits and non-prefixes are refused with the reason", () => {
  const refused = (text: string, why: RegExp) => expect(() => parseHostPrefix(text)).toThrow(why);
  refused("2001:db8::/47", /length must be \/48 to \/120 \(got \/47\)/);
  refused("2001:db8::/121", /got \/121/);
  refused("2001:db8::5/64", /host bits must be zero \(did you mean 2001:db8::\/64\?\)/);
  refused("2001:db8::", /expected an address\/length/);
  refused("10.0.0.0/24", /expected an address\/length/);
  refused("2001:db8::zz/64", /expected an address\/length/);
  expect(() => parseHostPrefix("2001:db8::/20")).toThrow(expect.objectContaining({ code: "E_INVALID_INPUT" }));
});

test("the sysctl.d text enables forwarding, keeps the uplink's RAs and proxies NDP only when asked", () => {
  expect(ipv6SysctlText()).toBe(
    "# Written by blockhost: VMs' IPv6 /128s are routed through this host.\nnet.ipv6.conf.all.forwarding = 1\n",
  );
  expect(ipv6SysctlText("eth0.100", false)).toContain("net/ipv6/conf/eth0.100/accept_ra = 2\n");
  expect(ipv6SysctlText("eth0.100", false)).not.toContain("proxy_ndp");
  expect(ipv6SysctlText("eth0", true)).toContain("net/ipv6/conf/eth0/proxy_ndp = 1\n");
});
