/** Agent network and firewall actions inside a namespace. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { actionRunner } from "../../helpers/action-context.ts";
import { tempDir } from "../../helpers/binary.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";
import { createTestNetns, netnsUnavailable, type TestNetns } from "../../helpers/netns.ts";

/**
 * ip6-route-add/del, iptables-open/close and bridge-port-isolate for real, inside a network
 * namespace this test creates; the result is read back with ip / iptables / bridge in it.
 */
const skip = netnsUnavailable();
if (skip) console.log(`skipping agent network tests: ${skip}`);

describe.skipIf(!!skip)("network actions in a namespace", () => {
  let ns: TestNetns;
  let act: ReturnType<typeof actionRunner>;
  const scopeRoot = tempDir("blockhost-net-");
  const previousRoot = process.env.BLOCKHOST_ROOT;
  beforeAll(() => {
    process.env.BLOCKHOST_ROOT = scopeRoot.dir;
    writeScopeConfig(scopeRoot.dir, { ipv6Prefix: "2001:db8::/64", knockPorts: [2222, 8443] });
    ns = createTestNetns();
    act = actionRunner(ns.binaries);
  });
  afterAll(() => {
    ns?.cleanup();
    if (previousRoot === undefined) delete process.env.BLOCKHOST_ROOT;
    else process.env.BLOCKHOST_ROOT = previousRoot;
    scopeRoot.cleanup();
  });

  const routes = () => ns.exec("/usr/sbin/ip", "-6", "route", "show");
  const rules = (tool = "/usr/sbin/iptables") => ns.exec(tool, "-S", "INPUT");

  test("ip6-route-add installs a /128 route, idempotently", async () => {
    expect(await act("ip6-route-add", { address: "2001:db8::5/128", dev: "vmbr0" })).toEqual({
      address: "2001:db8::5/128",
      dev: "vmbr0",
    });
    await act("ip6-route-add", { address: "2001:db8::5/128", dev: "vmbr0" });
    await act("ip6-route-add", { address: "2001:db8::6/128", dev: "tap100i0" });
    const shown = routes();
    expect(shown.match(/^2001:db8::5 dev vmbr0/gm)).toHaveLength(1);
    expect(shown).toMatch(/^2001:db8::6 dev tap100i0/m);
  });

  test("ip6-route-del removes it; a second delete reports removed: false", async () => {
    expect(await act("ip6-route-del", { address: "2001:db8::5/128", dev: "vmbr0" })).toEqual({ removed: true });
    expect(routes()).not.toContain("2001:db8::5 ");
    expect(await act("ip6-route-del", { address: "2001:db8::5/128", dev: "vmbr0" })).toEqual({ removed: false });
  });

  test("a route on a device that does not exist fails with ip's message", async () => {
    await expect(act("ip6-route-add", { address: "2001:db8::7/128", dev: "tap999i0" })).rejects.toMatchObject({
      code: "E_COMMAND_FAILED",
      message: expect.stringContaining("Cannot find device"),
    });
  });

  test("iptables-open appends one ACCEPT rule with the comment, once", async () => {
    expect(await act("iptables-open", { port: 2222, comment: "admin-knock" })).toEqual({ added: true });
    expect(await act("iptables-open", { port: 2222, proto: "tcp", comment: "admin-knock" })).toEqual({ added: false });
    const lines = rules()
      .split("\n")
      .filter((l) => l.includes("admin-knock"));
    expect(lines).toEqual(["-A INPUT -p tcp -m tcp --dport 2222 -m comment --comment admin-knock -j ACCEPT"]);
  });

  test("iptables-open honours source (IPv4 to iptables, IPv6 to ip6tables) and udp", async () => {
    await act("iptables-open", { port: 8443, proto: "udp", comment: "knock-v4", source: "203.0.113.7" });
    await act("iptables-open", { port: 8443, comment: "knock-v6", source: "2001:db8:1::/48" });
    expect(rules()).toContain(
      "-A INPUT -s 203.0.113.7/32 -p udp -m udp --dport 8443 -m comment --comment knock-v4 -j ACCEPT",
    );
    expect(rules("/usr/sbin/ip6tables")).toContain(
      "-A INPUT -s 2001:db8:1::/48 -p tcp -m tcp --dport 8443 -m comment --comment knock-v6 -j ACCEPT",
    );
    expect(rules()).not.toContain("knock-v6");
  });

  test("iptables-close deletes exactly the matching rule; closing again is removed: false", async () => {
    expect(await act("iptables-close", { port: 2222, comment: "admin-knock" })).toEqual({ removed: true });
    expect(rules()).not.toContain("admin-knock");
    expect(rules()).toContain("knock-v4");
    expect(await act("iptables-close", { port: 2222, comment: "admin-knock" })).toEqual({ removed: false });
    expect(await act("iptables-close", { port: 8443, comment: "knock-v6", source: "2001:db8:1::/48" })).toEqual({
      removed: true,
    });
    expect(rules("/usr/sbin/ip6tables")).not.toContain("knock-v6");
  });

  test("bridge-port-isolate turns on isolation for the VM's port", async () => {
    expect(ns.exec("/usr/sbin/bridge", "-d", "link", "show", "dev", "tap100i0")).toContain("isolated off");
    expect(await act("bridge-port-isolate", { dev: "tap100i0" })).toEqual({ dev: "tap100i0", isolated: true });
    expect(ns.exec("/usr/sbin/bridge", "-d", "link", "show", "dev", "tap100i0")).toContain("isolated on");
  });
});
