/** In-VM login pieces: config, codes, users, files. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "../../../src/core/config/load.ts";
import { pamConfigSchema } from "../../../src/vmauth/config.ts";
import { VM_AUTH_FILES } from "../../../src/vmauth/files/index.ts";
import { generateOtp, otpMessage, otpTag, tagMatches } from "../../../src/vmauth/otp.ts";
import { hostFromAddresses, isValidHost, signingUrl } from "../../../src/vmauth/signing-host.ts";
import { lookupWalletUser } from "../../../src/vmauth/user.ts";

const parse = (text: string) => parseConfigText("/etc/pam_web3/config.toml", text, pamConfigSchema, "toml");
const machine = `[machine]\nid = "vm-1"\nsecret_key = "00112233445566778899aabbccddeeff"\n`;

describe("config.toml", () => {
  test("defaults: 12 digits, 300 s, TLS, port 63108", () => {
    expect(parse(machine).auth).toEqual({
      otp_length: 12,
      otp_ttl_seconds: 300,
      use_tls: true,
      callback_grace_seconds: 10,
      signing_port: 63108,
    });
  });
  test("keys of older libpam-web3 versions still load", () => {
    expect(
      parse(`${machine}[auth]\nsigning_url = "https://x:8443"\ncallback_enabled = true\notp_length = 8\n`).auth
        .otp_length,
    ).toBe(8);
  });
  const bad: Array<[string, string, string]> = [
    ["a short secret", `[machine]\nid = "vm-1"\nsecret_key = "0011"\n`, "machine.secret_key"],
    ["an OTP length of 3", `${machine}[auth]\notp_length = 3\n`, "auth.otp_length"],
    ["an OTP length of 20", `${machine}[auth]\notp_length = 20\n`, "auth.otp_length"],
    ["an unknown key", `${machine}[auth]\notp_lenght = 6\n`, "auth.otp_lenght"],
    [
      "a machine id with spaces",
      `[machine]\nid = "vm 1"\nsecret_key = "00112233445566778899aabbccddeeff"\n`,
      "machine.id",
    ],
    ["broken TOML", `[machine\n`, "not valid TOML"],
  ];
  for (const [name, text, where] of bad) {
    test(`refuses ${name}, naming the key`, () => {
      expect(() => parse(text)).toThrow(where);
    });
  }
});

describe("OTP", () => {
  test("codes are the configured number of digits", () => {
    for (const n of [4, 6, 19]) expect(generateOtp(n)).toMatch(new RegExp(`^\\d{${n}}$`));
  });
  test("the signed message keeps the original wording", () => {
    expect(otpMessage("vm-1", "012345")).toBe("Authenticate to vm-1 with code: 012345");
  });
  test("the tag binds every field and the secret", () => {
    const secret = Buffer.alloc(16, 7);
    const f = {
      sessionId: "a".repeat(32),
      user: "alice",
      otp: "123456",
      createdAt: 1_700_000_000,
      machineId: "vm-1",
      attempt: "1-2",
    };
    const tag = otpTag(secret, f);
    expect(tagMatches(secret, f, tag)).toBe(true);
    expect(tagMatches(Buffer.alloc(16, 8), f, tag)).toBe(false);
    for (const change of [
      { otp: "123457" },
      { user: "bob" },
      { createdAt: 1_700_000_001 },
      { machineId: "vm-2" },
      { attempt: "1-3" },
      { sessionId: "b".repeat(32) },
    ]) {
      expect(tagMatches(secret, { ...f, ...change }, tag)).toBe(false);
    }
    expect(tagMatches(secret, f, "not hex")).toBe(false);
  });
});

describe("signing URL", () => {
  test("https with the session, http without TLS, IPv6 bracketed", () => {
    expect(signingUrl("vm.example.net", 63108, true, "ab".repeat(16))).toBe(
      `https://vm.example.net:63108/?session=${"ab".repeat(16)}`,
    );
    expect(signingUrl("abc.onion", 63108, false)).toBe("http://abc.onion:63108/");
    expect(signingUrl("2001:db8::1", 63108, true)).toBe("https://[2001:db8::1]:63108/");
  });
  test("host names that could break a URL are not valid", () => {
    for (const h of ["evil.com/x", "a b", "x@y", "", "-lead"]) expect(isValidHost(h)).toBe(false);
    for (const h of ["vm-1", "2001-db8--1.sslip.io", "10.0.0.5", "::1"]) expect(isValidHost(h)).toBe(true);
  });
});

describe("GECOS wallet", () => {
  const dir = mkdtempSync(join(tmpdir(), "bh-passwd-"));
  const file = join(dir, "passwd");
  writeFileSync(
    file,
    [
      "alice:x:1000:1000:wallet=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266,nft=4:/home/alice:/bin/sh",
      "bob:x:1001:1001:Bob Smith:/home/bob:/bin/sh",
      "carol:x:1002:1002:wallet=0x1234:/home/carol:/bin/sh",
    ].join("\n"),
  );
  test("reads wallet and NFT id", () => {
    expect(lookupWalletUser("alice", file)).toEqual({
      name: "alice",
      wallet: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
      nft: "4",
    });
  });
  test("refuses users without a (valid) wallet, unknown users and odd names", () => {
    for (const name of ["bob", "carol", "dave", "../etc", "alice:x"])
      expect(() => lookupWalletUser(name, file)).toThrow();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

describe("VM-side files", () => {
  test("the PAM stack runs challenge with stdout and verify with expose_authtok, then nothing but pam_permit", () => {
    const pam = VM_AUTH_FILES.find((f) => f.path === "/etc/pam.d/sshd")!.content;
    const auth = pam.split("\n").filter((l) => l.startsWith("auth"));
    expect(auth[0]).toMatch(
      /^auth\s+requisite\s+pam_exec\.so quiet stdout \/usr\/local\/bin\/blockhost pam challenge$/,
    );
    expect(auth[1]).toMatch(
      /^auth\s+requisite\s+pam_exec\.so quiet expose_authtok \/usr\/local\/bin\/blockhost pam verify$/,
    );
    expect(auth[2]).toMatch(/^auth\s+required\s+pam_permit\.so$/);
    expect(auth.length).toBe(3);
  });
  test("sshd allows keyboard-interactive through PAM only", () => {
    const conf = VM_AUTH_FILES.find((f) => f.path.startsWith("/etc/ssh/sshd_config.d/"))!.content;
    for (const line of [
      "UsePAM yes",
      "KbdInteractiveAuthentication yes",
      "AuthenticationMethods keyboard-interactive",
      "PubkeyAuthentication no",
      "PasswordAuthentication no",
    ]) {
      expect(conf).toContain(line);
    }
  });
  test("tmpfiles creates the private pending dir", () => {
    expect(VM_AUTH_FILES.find((f) => f.path.includes("tmpfiles"))!.content).toMatch(
      /^d \/run\/libpam-web3\/pending\s+0700 root root/m,
    );
  });
});

describe("signing host from the VM's addresses", () => {
  const nic = (address: string, family: "IPv4" | "IPv6", internal = false) =>
    ({ address, family, internal, netmask: "", mac: "", cidr: null }) as import("node:os").NetworkInterfaceInfo;
  test("a global IPv6 becomes an sslip.io name", () => {
    expect(
      hostFromAddresses({
        lo: [nic("127.0.0.1", "IPv4", true)],
        eth0: [nic("192.168.122.10", "IPv4"), nic("fe80::1", "IPv6"), nic("2a01:4f8:1:2::10", "IPv6")],
      }),
    ).toBe("2a01-4f8-1-2--10.sslip.io");
  });
  test("a public IPv4 next, a private IPv4 as is, nothing → null", () => {
    expect(hostFromAddresses({ eth0: [nic("10.0.0.5", "IPv4"), nic("203.0.113.7", "IPv4")] })).toBe(
      "203-0-113-7.sslip.io",
    );
    expect(hostFromAddresses({ eth0: [nic("172.20.1.9", "IPv4"), nic("fd00::5", "IPv6")] })).toBe("172.20.1.9");
    expect(hostFromAddresses({ lo: [nic("::1", "IPv6", true)] })).toBeNull();
  });
});
