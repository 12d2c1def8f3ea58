// No spoofing between VMs on a libvirt host: the agent's real nftables bridge rules on a bridge this test
// builds in namespaces. A "host" namespace owns the bridge (its address is the VMs' gateway, its neighbour
// table is the one an attacker wants to poison); a victim VM and an attacker VM hang off it by veth, their
// host-side ends named as libvirt names them. The attacker is root in its namespace and forges frames.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { vmPortName } from "../../../src/agent/port-guard/rules.ts";
import { macForVmid } from "../../../src/provision/allocate.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { tempDir } from "../../helpers/binary.ts";
import { arpFrame, Capture, naFrame, sendFrames } from "../../helpers/l2.ts";
import { createPlainNetns, netnsUnavailable, netnsWrapper, type PlainNetns } from "../../helpers/netns.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

setDefaultTimeout(60_000);

const NFT = "/usr/sbin/nft";
const IP = "/usr/sbin/ip";
const PING = "/usr/bin/ping";
const skip = netnsUnavailable() ?? (existsSync(NFT) ? undefined : `${NFT} is missing (apt-get install nftables)`);
if (skip) console.log(`skipping port guard tests: ${skip}`);

const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const GATEWAY = { v4: "10.77.0.1", v6: "fd77::1" };
const VICTIM = { name: `victim-${suffix}`, vmid: 4101, v4: "10.77.0.10", v6: "fd77::10" };
const ATTACKER = { name: `attacker-${suffix}`, vmid: 4102, v4: "10.77.0.20", v6: "fd77::20" };
// A Proxmox VM: its port is qemu-server's tap<vmid>i0 (VMID inside db.yaml's range), its MAC Proxmox's.
const PVE_VM = { name: `pve-${suffix}`, vmid: 150, v4: "10.77.0.30", v6: "fd77::30" };
type Vm = typeof VICTIM & { ns: PlainNetns; port: string; mac: string };

const ok = (argv: string[]) => Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

describe.skipIf(!!skip)("port guard: nftables bridge rules on a VM's port", () => {
  let host: PlainNetns;
  let victim: Vm;
  let attacker: Vm;
  let agent: RunningAgent;
  let dir: string;
  let cleanup: () => void;
  const captures: Capture[] = [];
  let pveNs: PlainNetns | undefined;

  /** The host's neighbour entry for `address` on the bridge: its MAC, or null. */
  const neighbour = (address: string): string | null => {
    const entries = JSON.parse(host.exec(IP, "-j", "neigh", "show", "to", address, "dev", "br0")) as {
      lladdr?: string;
    }[];
    return entries[0]?.lladdr ?? null;
  };
  const capture = async (ns: PlainNetns, iface: string) => {
    const c = await new Capture(ns.name, iface).start();
    captures.push(c);
    return c;
  };
  const pingFrom = (ns: PlainNetns, to: string, from?: string) =>
    ok([IP, "netns", "exec", ns.name, PING, "-c", "1", "-W", "2", ...(from ? ["-I", from] : []), to]);

  function plugVm(vm: typeof VICTIM, port = vmPortName(vm.name), mac = macForVmid(vm.vmid)): Vm {
    const ns = createPlainNetns();
    const peer = `p${Math.random().toString(36).slice(2, 10)}`;
    ns.exec("/usr/sbin/sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
    host.exec(IP, "link", "add", port, "type", "veth", "peer", "name", peer);
    host.exec(IP, "link", "set", peer, "netns", ns.name);
    host.exec(IP, "link", "set", port, "master", "br0", "up");
    ns.exec(IP, "link", "set", peer, "name", "eth0");
    ns.exec(IP, "link", "set", "eth0", "address", mac);
    ns.exec(IP, "addr", "add", `${vm.v4}/24`, "dev", "eth0");
    ns.exec(IP, "-6", "addr", "add", `${vm.v6}/64`, "dev", "eth0", "nodad");
    ns.exec(IP, "link", "set", "eth0", "up");
    return { ...vm, ns, port, mac };
  }

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir("bh-port-guard-"));
    host = createPlainNetns();
    host.exec("/usr/sbin/sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
    host.exec(IP, "link", "add", "br0", "type", "bridge");
    host.exec(IP, "addr", "add", `${GATEWAY.v4}/24`, "dev", "br0");
    host.exec(IP, "-6", "addr", "add", `${GATEWAY.v6}/64`, "dev", "br0", "nodad");
    host.exec(IP, "link", "set", "br0", "up");
    // An entry older than locktime (1 s) may be replaced by any ARP reply; 0 makes that true at once here.
    host.exec("/usr/sbin/sysctl", "-qw", "net.ipv4.neigh.br0.locktime=0");
    victim = plugVm(VICTIM);
    attacker = plugVm(ATTACKER);
    // The host's own prefix (db.yaml): the agent binds only addresses inside it.
    writeScopeConfig(join(dir, "root"), { ipv6Prefix: "fd77::/64" });
    agent = await startAgent({
      root: join(dir, "root"),
      binaries: {
        nft: netnsWrapper(dir, host.name, NFT),
        bridge: netnsWrapper(dir, host.name, "/usr/sbin/bridge"),
      },
    });
    for (const vm of [victim, attacker]) {
      await agent.client.call("port-guard-set", { name: vm.name, mac: vm.mac, ipv4: [vm.v4], ipv6: [vm.v6] });
      await agent.client.call("bridge-port-isolate", { dev: vm.port });
    }
  });
  afterAll(async () => {
    for (const c of captures) c.stop();
    await agent?.stop();
    for (const ns of [victim?.ns, attacker?.ns, pveNs, host]) ns?.cleanup();
    cleanup?.();
  });

  test("an address outside the host's prefix is not bound (out of scope)", async () => {
    await expect(
      agent.client.call("port-guard-set", {
        name: victim.name,
        mac: victim.mac,
        ipv4: [victim.v4],
        ipv6: ["2001:db8::10"],
      }),
    ).rejects.toMatchObject({ code: "E_AGENT_OUT_OF_SCOPE" });
  });

  test("the table binds both ports; the host reaches each VM at its own MAC", () => {
    const table = host.exec(NFT, "list", "table", "bridge", "blockhost_guard");
    expect(table).toContain(`"${victim.port}" : jump from_${victim.port}`);
    expect(table).toContain(`"${attacker.port}" : jump from_${attacker.port}`);
    expect(table).toContain('iifname "bhv*" drop');
    for (const vm of [victim, attacker]) {
      expect(pingFrom(host, vm.v4)).toBe(true);
      expect(pingFrom(host, vm.v6)).toBe(true);
      expect(neighbour(vm.v4)).toBe(vm.mac);
      expect(neighbour(vm.v6)).toBe(vm.mac);
    }
  });

  test("forged ARP replies, gratuitous ARP, a stolen MAC and NAs for the victim reach nobody and poison nothing", async () => {
    const brMac = JSON.parse(host.exec(IP, "-j", "link", "show", "br0"))[0].address as string;
    const [atHost, atVictim] = [await capture(host, "br0"), await capture(victim.ns, "eth0")];
    const a = attacker.mac;
    const forged = [
      // "the victim's IPv4 is at my MAC", to the host and to everyone
      arpFrame({
        ethSrc: a,
        ethDst: brMac,
        op: 2,
        senderMac: a,
        senderIp: victim.v4,
        targetMac: brMac,
        targetIp: GATEWAY.v4,
      }),
      arpFrame({
        ethSrc: a,
        ethDst: "ff:ff:ff:ff:ff:ff",
        op: 1,
        senderMac: a,
        senderIp: victim.v4,
        targetMac: "00:00:00:00:00:00",
        targetIp: victim.v4,
      }),
      // a frame from the victim's MAC, so the bridge would learn it on the attacker's port
      arpFrame({
        ethSrc: victim.mac,
        ethDst: "ff:ff:ff:ff:ff:ff",
        op: 1,
        senderMac: victim.mac,
        senderIp: victim.v4,
        targetMac: "00:00:00:00:00:00",
        targetIp: "10.77.0.98",
      }),
      // unsolicited NAs (override) for the victim's IPv6, from the attacker's own address and from the victim's
      naFrame({ ethSrc: a, ethDst: "33:33:00:00:00:01", src: attacker.v6, dst: "ff02::1", target: victim.v6, tlla: a }),
      naFrame({ ethSrc: a, ethDst: "33:33:00:00:00:01", src: victim.v6, dst: "ff02::1", target: victim.v6, tlla: a }),
    ];
    // Last, a genuine ARP request from the attacker's own address: once it arrives, the forged ones were judged.
    const marker = arpFrame({
      ethSrc: a,
      ethDst: "ff:ff:ff:ff:ff:ff",
      op: 1,
      senderMac: a,
      senderIp: attacker.v4,
      targetMac: "00:00:00:00:00:00",
      targetIp: "10.77.0.99",
    });
    sendFrames(attacker.ns.name, "eth0", [...forged, marker]);
    await atHost.waitFor("the attacker's genuine ARP request", (f) => f.arp?.targetIp === "10.77.0.99");

    const isForged = (f: (typeof atHost.frames)[number]) =>
      (f.arp !== undefined && f.arp.senderIp === victim.v4 && (f.ethSrc === a || f.arp.targetIp === "10.77.0.98")) ||
      f.ip6?.naTarget === victim.v6;
    expect(atHost.received().filter(isForged)).toEqual([]);
    expect(atVictim.received().filter(isForged)).toEqual([]);
    expect(neighbour(victim.v4)).toBe(victim.mac);
    expect(neighbour(victim.v6)).toBe(victim.mac);
    const fdb = JSON.parse(host.exec("/usr/sbin/bridge", "-j", "fdb", "show", "br", "br0")) as {
      mac: string;
      ifname: string;
    }[];
    expect(fdb.filter((e) => e.mac === victim.mac).map((e) => e.ifname)).toEqual([victim.port]);
  });

  test("an attacker that configures the victim's addresses reaches nobody; the host still finds the victim", async () => {
    attacker.ns.exec(IP, "addr", "add", `${victim.v4}/24`, "dev", "eth0");
    attacker.ns.exec(IP, "-6", "addr", "add", `${victim.v6}/64`, "dev", "eth0", "nodad");
    const [atHost, atAttacker] = [await capture(host, "br0"), await capture(attacker.ns, "eth0")];
    expect(pingFrom(attacker.ns, GATEWAY.v4, victim.v4)).toBe(false);
    expect(pingFrom(attacker.ns, GATEWAY.v6, victim.v6)).toBe(false);
    // Its own address still works: that echo arriving at the host is the event the negatives wait on.
    expect(pingFrom(attacker.ns, GATEWAY.v4, attacker.v4)).toBe(true);
    await atHost.waitFor("the attacker's own echo request", (f) => f.ip4?.src === attacker.v4);
    const fromAttacker = atHost.received().filter((f) => f.ethSrc === attacker.mac);
    expect(fromAttacker.filter((f) => f.ip4?.src === victim.v4 || f.arp?.senderIp === victim.v4)).toEqual([]);
    expect(fromAttacker.filter((f) => f.ip6?.src === victim.v6 || f.ip6?.naTarget === victim.v6)).toEqual([]);

    // The host forgets the victim and asks again: both VMs would answer, only the victim's answer passes.
    host.exec(IP, "neigh", "flush", "dev", "br0");
    expect(pingFrom(host, victim.v4)).toBe(true);
    expect(pingFrom(host, victim.v6)).toBe(true);
    expect(neighbour(victim.v4)).toBe(victim.mac);
    expect(neighbour(victim.v6)).toBe(victim.mac);
    expect(atAttacker.received().filter((f) => f.ip4?.dst === victim.v4 || f.ip6?.dst === victim.v6)).toEqual([]);
    attacker.ns.exec(IP, "addr", "del", `${victim.v4}/24`, "dev", "eth0");
    attacker.ns.exec(IP, "-6", "addr", "del", `${victim.v6}/64`, "dev", "eth0");
  });

  test("port-guard-clear: an unbound VM port drops everything it sends; set again, it works", async () => {
    expect(await agent.client.call("port-guard-clear", { name: attacker.name })).toMatchObject({ removed: true });
    host.exec(IP, "neigh", "flush", "dev", "br0");
    expect(pingFrom(host, attacker.v4)).toBe(false);
    expect(pingFrom(host, victim.v4)).toBe(true);
    expect(await agent.client.call("port-guard-clear", { name: attacker.name })).toMatchObject({ removed: false });
    await agent.client.call("port-guard-set", {
      name: attacker.name,
      mac: attacker.mac,
      ipv4: [attacker.v4],
      ipv6: [attacker.v6],
    });
    host.exec(IP, "neigh", "flush", "dev", "br0"); // drop the FAILED entry the unbound port left
    expect(pingFrom(host, attacker.v4)).toBe(true);
  });

  test("after a reboot (table gone) port-guard-sync binds every recorded port; another root's sync unbinds none", async () => {
    host.exec(NFT, "delete", "table", "bridge", "blockhost_guard");
    expect(await agent.client.call("port-guard-sync", {})).toEqual({ ok: true, ports: 2 });
    // A second BlockHost root on the same host (a test, another demo) with no VMs of its own.
    const other = await startAgent({ binaries: { nft: netnsWrapper(dir, host.name, NFT) } });
    try {
      expect(await other.client.call("port-guard-sync", {})).toEqual({ ok: true, ports: 0 });
    } finally {
      await other.stop();
    }
    host.exec(IP, "neigh", "flush", "dev", "br0");
    for (const vm of [victim, attacker]) expect(pingFrom(host, vm.v4)).toBe(true);
    expect(pingFrom(attacker.ns, GATEWAY.v4, victim.v4)).toBe(false);
  });

  test("an agent restart after the table is gone binds every recorded port before it answers anyone", async () => {
    await agent.stop();
    host.exec(NFT, "delete", "table", "bridge", "blockhost_guard");
    agent = await startAgent({
      root: join(dir, "root"),
      binaries: {
        nft: netnsWrapper(dir, host.name, NFT),
        bridge: netnsWrapper(dir, host.name, "/usr/sbin/bridge"),
      },
    });
    // startAgent returns once the agent answers a ping: no request has asked for a sync.
    const table = host.exec(NFT, "list", "table", "bridge", "blockhost_guard");
    for (const vm of [victim, attacker]) expect(table).toContain(`"${vm.port}" : jump from_${vm.port}`);
    expect(agent.logLines()).toContainEqual(expect.objectContaining({ event: "agent.port_guard_synced", ports: 2 }));
    // The binding holds: the victim's address from the attacker's port reaches nobody, its own does.
    attacker.ns.exec(IP, "addr", "add", `${victim.v4}/24`, "dev", "eth0");
    const atHost = await capture(host, "br0");
    expect(pingFrom(attacker.ns, GATEWAY.v4, victim.v4)).toBe(false);
    expect(pingFrom(attacker.ns, GATEWAY.v4, attacker.v4)).toBe(true);
    await atHost.waitFor("the attacker's own echo request", (f) => f.ip4?.src === attacker.v4);
    expect(atHost.received().filter((f) => f.ethSrc === attacker.mac && f.ip4?.src === victim.v4)).toEqual([]);
    attacker.ns.exec(IP, "addr", "del", `${victim.v4}/24`, "dev", "eth0");
    host.exec(IP, "neigh", "flush", "dev", "br0");
    for (const vm of [victim, attacker]) expect(pingFrom(host, vm.v4)).toBe(true);
  });

  test("a Proxmox VM's tap<vmid>i0: its NA for the victim's address reaches the host unbound, nobody once bound", async () => {
    const pve = plugVm(PVE_VM, `tap${PVE_VM.vmid}i0`, "bc:24:11:5e:00:96");
    pveNs = pve.ns;
    const forgeAndMark = async () => {
      const atHost = await capture(host, "br0");
      const na = naFrame({
        ethSrc: pve.mac,
        ethDst: "33:33:00:00:00:01",
        src: pve.v6,
        dst: "ff02::1",
        target: victim.v6,
        tlla: pve.mac,
      });
      // Then its own echo request: once the host has it, the advertisement before it was judged.
      sendFrames(pve.ns.name, "eth0", [na]);
      expect(pingFrom(pve.ns, GATEWAY.v6, pve.v6)).toBe(true);
      await atHost.waitFor("the Proxmox VM's own echo request", (f) => f.ip6?.src === pve.v6 && f.ip6.icmpType === 128);
      return atHost.received().filter((f) => f.ip6?.naTarget === victim.v6 && f.ethSrc === pve.mac);
    };
    // Unbound (the PVE firewall alone passes it: it checks the source address, not the target).
    expect(await forgeAndMark()).toHaveLength(1);
    host.exec(IP, "neigh", "flush", "dev", "br0");
    expect(
      await agent.client.call("pve-port-guard-set", {
        vmid: PVE_VM.vmid,
        mac: "BC:24:11:5E:00:96",
        ipv4: [pve.v4],
        ipv6: [pve.v6],
      }),
    ).toEqual({ ok: true, port: pve.port });
    expect(pingFrom(host, victim.v6)).toBe(true);
    expect(await forgeAndMark()).toEqual([]);
    expect(neighbour(victim.v6)).toBe(victim.mac);
    expect(await agent.client.call("pve-port-guard-clear", { vmid: PVE_VM.vmid })).toEqual({ ok: true, removed: true });
    expect(await agent.client.call("pve-port-guard-clear", { vmid: PVE_VM.vmid })).toEqual({
      ok: true,
      removed: false,
    });
  });
});
