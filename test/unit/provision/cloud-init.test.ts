/** Cloud-init rendering. */
import { expect, test } from "bun:test";
import { vmLoginIdentity } from "../../../src/vmauth/otp.ts";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { type CloudInitInput, renderCloudInit } from "../../../src/provision/cloud-init.ts";
import { cloudInitInput } from "../../helpers/cloud-init-input.ts";
import { parseSeed } from "../../../src/guest/seed.ts";
import { bigIntToIpv6, ipv6ToBigInt } from "../../../src/core/ipv6.ts";
import { VM_AUTH_FILES } from "../../../src/vmauth/files/index.ts";

const allocation = {
  vmid: 120,
  ipv4: "10.0.0.5",
  ipv4Host: 5,
  ipv4Bits: 22,
  gateway: "10.0.0.1",
  ipv6: "2001:db8::7",
  ipv6Host: 7,
  ipv6Bits: 120,
  ipv6Gateway: "2001:db8::1",
};

const input = (o: Partial<CloudInitInput> = {}) => cloudInitInput(allocation, o);

test("cloud-init carries hostname, GECOS wallet, login config and keyboard-interactive-only sshd", () => {
  const ci = renderCloudInit({
    name: "blockhost-007",
    username: "admin",
    walletAddress: "0xAbC0000000000000000000000000000000000001",
    nftTokenId: 4,
    allocation,
    secretKey: "ab".repeat(32),
    otpLength: 8,
    otpTtlSeconds: 120,
    nameservers: ["10.0.0.1"],
  });
  expect(ci.userData.startsWith("#cloud-config\n")).toBe(true);
  const doc = parseYaml(ci.userData) as {
    hostname: string;
    users: Array<{ name: string; gecos: string }>;
    write_files: Array<{ path: string; content: string; permissions: string }>;
  };
  expect(doc.hostname).toBe("blockhost-007");
  expect(doc.users[0]).toMatchObject({
    name: "admin",
    gecos: "wallet=0xAbC0000000000000000000000000000000000001,nft=4",
  });
  const files = Object.fromEntries(doc.write_files.map((f) => [f.path, f]));
  const login = parseToml(files["/etc/pam_web3/config.toml"]!.content) as {
    machine: { id: string; secret_key: string };
    auth: { otp_length: number };
  };
  // The login identity is random per VM (from its secret), not the VM name that repeats on every host.
  expect(login.machine).toEqual({ id: vmLoginIdentity("ab".repeat(32)), secret_key: "ab".repeat(32) });
  expect(login.machine.id).toMatch(/^vm-[a-z2-9]{16}$/);
  expect(vmLoginIdentity("cd".repeat(32))).not.toBe(login.machine.id);
  expect(login.auth.otp_length).toBe(8);
  expect(files["/etc/pam_web3/config.toml"]!.permissions).toBe("0600");
  const sshd = files["/etc/ssh/sshd_config.d/web3-only.conf"]!.content;
  expect(sshd).toContain("AuthenticationMethods keyboard-interactive");
  expect(sshd).toContain("PasswordAuthentication no");
  expect(sshd).toContain("PubkeyAuthentication no");
  expect(ci.ipconfig0).toBe("ip=10.0.0.5/22,gw=10.0.0.1,ip6=2001:db8::7/128,gw6=2001:db8::1");
  const eth0 = (parseYaml(ci.networkConfig) as { ethernets: { eth0: Record<string, unknown> } }).ethernets.eth0;
  expect(eth0).toMatchObject({
    match: { macaddress: "52:54:00:00:00:78" },
    "set-name": "eth0",
    gateway4: "10.0.0.1",
    gateway6: "2001:db8::1",
  });
  expect(eth0.addresses).toEqual(["10.0.0.5/22", "2001:db8::7/128"]);
  expect(ci.userData).not.toContain("packages:");
});

test("GECOS omits nft= until a token exists", () => {
  const ci = renderCloudInit(input());
  expect(ci.userData).toContain("gecos: wallet=0x1111111111111111111111111111111111111111\n");
});

test("IPv6 text round-trips in canonical form", () => {
  for (const [inp, canon] of [
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["fe80::1:0:0:1", "fe80::1:0:0:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["::ffff:1.2.3.4", "::ffff:102:304"],
  ] as const) {
    expect(bigIntToIpv6(ipv6ToBigInt(inp))).toBe(canon);
  }
});

test("every user-data key is acted on by the template's first boot, and nothing runs commands", () => {
  const ci = renderCloudInit(input({ nftTokenId: 9 }));
  const seed = parseSeed({ metaData: "instance-id: a-1\n", userData: ci.userData, networkConfig: ci.networkConfig });
  expect(seed.ignored).toEqual([]);
  const keys = Object.keys(parseYaml(ci.userData) as object);
  // The guest has no internet and the template already holds every unit: first boot only configures.
  expect(keys).not.toContain("runcmd");
  expect(keys).not.toContain("packages");
  expect(seed.nameservers).toEqual(["192.0.2.53", "2001:db8:53::53"]);
});

test("the user data parses to the same document as rendering it whole (the login files are spliced in pre-rendered)", () => {
  const ci = renderCloudInit(input({ nftTokenId: 3 }));
  const doc = parseYaml(ci.userData) as { write_files: Array<{ path: string; permissions: string; content: string }> };
  expect(doc.write_files.slice(1)).toEqual(
    VM_AUTH_FILES.map((f) => ({ path: f.path, permissions: `0${f.mode.toString(8)}`, content: f.content })),
  );
  expect(ci.userData).not.toContain("blockhost-vm-auth-files");
  // A second render reuses the cached items and still yields the whole list.
  expect((parseYaml(renderCloudInit(input()).userData) as typeof doc).write_files.length).toBe(
    VM_AUTH_FILES.length + 1,
  );
});
