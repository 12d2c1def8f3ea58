/** The first boot's reading of both backends' NoCloud seeds, and what it writes into a guest tree. */
import { afterEach, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GuestHost, applyFiles, applyHostname, applyNetwork, applyUsers } from "../../../src/guest/apply.ts";
import { parseSeed } from "../../../src/guest/seed.ts";
import { macForVmid } from "../../../src/provision/allocate.ts";
import { renderCloudInit } from "../../../src/provision/cloud-init.ts";
import { vmLoginIdentity } from "../../../src/vmauth/otp.ts";
import { cloudInitInput } from "../../helpers/cloud-init-input.ts";

const allocation = {
  vmid: 101,
  ipv4: "203.0.113.38",
  ipv4Host: 38,
  ipv4Bits: 27,
  gateway: "203.0.113.33",
  ipv6: "2001:db8:1234:5600::4",
  ipv6Host: 4,
  ipv6Bits: 120,
  ipv6Gateway: "2001:db8:1234:5600::1",
};
const rendered = renderCloudInit(
  cloudInitInput(allocation, { name: "web-1", nftTokenId: 7, nameservers: ["203.0.113.53", "2001:db8::53"] }),
);
const mac = macForVmid(101);

/**
 * What Proxmox's own generator (qemu-server Cloudinit.pm nocloud_network) writes for net0 with our
 * ipconfig0 and `--nameserver "203.0.113.53 2001:db8::53"`, the host's search domain included.
 */
const proxmoxNetwork = `version: 1
config:
    - type: physical
      name: eth0
      mac_address: '${mac}'
      subnets:
      - type: static
        address: '203.0.113.38'
        netmask: '255.255.255.224'
        gateway: '203.0.113.33'
      - type: static6
        address: '2001:db8:1234:5600::4/128'
        gateway: '2001:db8:1234:5600::1'
    - type: nameserver
      address:
      - '203.0.113.53'
      - '2001:db8::53'
      search:
      - 'pve-host.example.lan'
`;

let roots: string[] = [];
afterEach(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
  roots = [];
});

/** A guest tree with passwd/group/ssh dirs, whose `useradd` appends to its passwd like the real one. */
function guestTree(nics: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), "bh-guest-"));
  roots.push(root);
  mkdirSync(join(root, "etc/ssh"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nsudo:x:27:\n");
  const ran: string[][] = [];
  const host: GuestHost = {
    root,
    nics: () => new Map(Object.entries(nics)),
    log: () => {},
    run: (argv) => {
      ran.push(argv);
      if (argv[0] === "useradd") {
        const name = argv.at(-1)!;
        const gecos = argv[argv.indexOf("--comment") + 1];
        appendFileSync(join(root, "etc/passwd"), `${name}:x:1000:1000:${gecos}:/home/${name}:/bin/bash\n`);
        appendFileSync(join(root, "etc/group"), `${name}:x:1000:\n`);
      }
      return { code: 0, out: "", err: "" };
    },
  };
  return { root, host, ran, read: (p: string) => readFileSync(join(root, p), "utf8") };
}

for (const [backend, networkConfig, metaData] of [
  ["libvirt (network-config v2)", rendered.networkConfig, "instance-id: web-1-101\nlocal-hostname: web-1\n"],
  ["Proxmox (its generated v1, our snippets)", proxmoxNetwork, "instance-id: blockhost-101\nlocal-hostname: web-1\n"],
] as const) {
  test(`${backend}: the seed configures network, DNS for both families, hostname, user + GECOS and the login files`, () => {
    const seed = parseSeed({ metaData, userData: rendered.userData, networkConfig });
    expect(seed.instanceId).toBe(metaData.split("\n")[0]!.slice("instance-id: ".length));
    const g = guestTree({ [mac]: "enp1s0" });
    applyHostname(g.host, seed);
    applyNetwork(g.host, seed);
    applyUsers(g.host, seed);
    applyFiles(g.host, seed);

    // The NIC found by MAC is renamed to the seed's eth0, now and (by the .link file) on later boots.
    expect(g.ran).toContainEqual(["ip", "link", "set", "dev", "enp1s0", "name", "eth0"]);
    expect(g.read("etc/systemd/network/10-blockhost-eth0.link")).toContain(`MACAddress=${mac}`);
    const eni = g.read("etc/network/interfaces.d/50-blockhost");
    expect(eni).toContain("auto eth0\niface eth0 inet static\n    address 203.0.113.38/27\n    gateway 203.0.113.33");
    expect(eni).toContain("iface eth0 inet6 static\n    address 2001:db8:1234:5600::4/128");
    expect(eni).toContain("    gateway 2001:db8:1234:5600::1");
    const resolv = g.read("etc/resolv.conf");
    expect(resolv).toContain("nameserver 203.0.113.53\nnameserver 2001:db8::53\n");
    if (backend.startsWith("Proxmox")) expect(resolv).toContain("search pve-host.example.lan");
    expect(g.read("etc/hostname")).toBe("web-1\n");
    expect(g.read("etc/hosts")).toContain("127.0.1.1 web-1\n");

    expect(g.read("etc/passwd")).toMatch(
      /^admin:x:1000:1000:wallet=0x1111111111111111111111111111111111111111,nft=7:/m,
    );
    expect(g.ran.find((a) => a[0] === "useradd")).toContain("sudo");
    expect(g.read("etc/sudoers.d/90-blockhost-users")).toContain("admin ALL=(ALL) NOPASSWD:ALL");
    expect(statSync(join(g.root, "etc/sudoers.d/90-blockhost-users")).mode & 0o777).toBe(0o440);
    expect(g.read("etc/pam_web3/config.toml")).toContain(`id = "${vmLoginIdentity("00".repeat(32))}"`);
    expect(statSync(join(g.root, "etc/pam_web3/config.toml")).mode & 0o777).toBe(0o600);
    for (const f of seed.files) expect(readFileSync(join(g.root, f.path)).equals(f.content)).toBe(true);
  });
}

test("a NIC name already taken is kept, not renamed; a NIC the VM lacks is skipped", () => {
  const seed = parseSeed({ metaData: "instance-id: x\n", userData: "#cloud-config\n", networkConfig: proxmoxNetwork });
  const g = guestTree({ [mac]: "ens18", "52:54:00:00:00:09": "eth0" });
  applyNetwork(g.host, seed);
  expect(g.ran.filter((a) => a[0] === "ip")).toEqual([]);
  expect(g.read("etc/network/interfaces.d/50-blockhost")).toContain("iface ens18 inet static");
  const none = guestTree({});
  applyNetwork(none.host, seed);
  expect(none.read("etc/network/interfaces.d/50-blockhost")).not.toContain("iface");
  expect(none.read("etc/resolv.conf")).toContain("nameserver 203.0.113.53");
});

test("seed values that would escape their place are refused, naming the part", () => {
  const meta = "instance-id: i-1\n";
  const bad = (userData: string, networkConfig?: string) => () =>
    parseSeed({ metaData: meta, userData, ...(networkConfig ? { networkConfig } : {}) });
  expect(bad("#cloud-config\nwrite_files: [{path: /etc/../root/x, content: a}]")).toThrow(/write_files\[0\]: path/);
  expect(bad("#cloud-config\nwrite_files: [{path: etc/x, content: a}]")).toThrow(/path/);
  expect(bad("#cloud-config\nusers: [{name: 'Root;x'}]")).toThrow(/users\[0\]: name/);
  expect(bad("#cloud-config\nusers: [{name: a, gecos: 'x:0:0'}]")).toThrow(/gecos/);
  expect(bad("#cloud-config\nhostname: a_b")).toThrow(/hostname/);
  expect(bad("#cloud-config\nusers: [{name: a, lock_passwd: false}]")).toThrow(/lock_passwd/);
  expect(bad("not cloud-config\n")).toThrow(/#cloud-config/);
  expect(bad("#cloud-config\n", "version: 2\nethernets: {e: {addresses: ['10.0.0.1/40']}}")).toThrow(/prefix/);
  expect(bad("#cloud-config\n", "version: 1\nconfig: [{type: nameserver, address: ['8.8.8.8; rm']}]")).toThrow(
    /nameserver/,
  );
  expect(() => parseSeed({ metaData: "local-hostname: a\n", userData: "#cloud-config\n" })).toThrow(/instance-id/);
  // Keys the first boot does not act on are reported, not silently dropped.
  expect(parseSeed({ metaData: meta, userData: "#cloud-config\nruncmd: [ls]\n" }).ignored).toEqual(["runcmd"]);
});
