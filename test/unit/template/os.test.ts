/** Templates by OS: which image or template VMID serves a VM of a given OS, and the guests' resolvers. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DbConfig } from "../../../src/core/config/schemas.ts";
import { guestNameservers, upstreamResolvers } from "../../../src/core/config/network.ts";
import { DEFAULT_OS, OS_IDS, parseOsId, templateFor } from "../../../src/core/template/os.ts";

test("each OS id has its own template; the default OS keeps the configured one", () => {
  expect(DEFAULT_OS).toBe("debian-12");
  expect(OS_IDS).toEqual(["debian-12", "debian-13"]);
  const backend = {
    libvirtTemplate: "/var/lib/libvirt/blockhost/templates/blockhost-template.qcow2",
    proxmoxVmid: 9001,
    proxmoxVmids: { "debian-13": 9002 },
  };
  expect(templateFor("debian-12", backend)).toEqual({
    os: "debian-12",
    label: "Debian 12 (bookworm)",
    suite: "bookworm",
    libvirtImage: "/var/lib/libvirt/blockhost/templates/blockhost-template.qcow2",
    proxmoxVmid: 9001,
  });
  expect(templateFor("debian-13", backend)).toMatchObject({
    suite: "trixie",
    libvirtImage: "/var/lib/libvirt/blockhost/templates/blockhost-template-debian-13.qcow2",
    proxmoxVmid: 9002,
  });
});

test("an unknown OS id, or an OS without a Proxmox template, is refused with what to do", () => {
  expect(() => parseOsId("ubuntu-24")).toThrow(/--os: expected one of debian-12, debian-13/);
  expect(() => templateFor("../../etc")).toThrow(/os: expected one of/);
  expect(() => templateFor("debian-13", { proxmoxVmid: 9001 })).toThrow(
    /no Proxmox template for debian-13: .*proxmox\.template_vmids\.debian-13/,
  );
});

test("guest resolvers: ip_pool.nameservers, else the host's upstream resolvers, else the gateway", () => {
  const dir = mkdtempSync(join(tmpdir(), "bh-resolv-"));
  try {
    const stub = join(dir, "stub.conf");
    const upstream = join(dir, "upstream.conf");
    writeFileSync(stub, "nameserver 127.0.0.53\noptions edns0\n");
    writeFileSync(upstream, "# resolved\nnameserver 192.0.2.1\nnameserver 2001:db8::35\nnameserver fe80::1%eth0\n");
    const cfg = (nameservers?: string[]) =>
      ({ ip_pool: { gateway: "10.0.0.1", ...(nameservers ? { nameservers } : {}) } }) as unknown as DbConfig;
    expect(guestNameservers(cfg(["9.9.9.9", "2620:fe::fe"]), [upstream])).toEqual(["9.9.9.9", "2620:fe::fe"]);
    expect(guestNameservers(cfg(), [join(dir, "absent"), stub, upstream])).toEqual(["192.0.2.1", "2001:db8::35"]);
    expect(guestNameservers(cfg(), [stub])).toEqual(["10.0.0.1"]);
    expect(upstreamResolvers("nameserver ::1\nnameserver 127.0.0.1\nnameserver 1.1.1.1\nnameserver x; y\n")).toEqual([
      "1.1.1.1",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
