// The network-config we render, converted by the real cloud-init (`cloud-init devel net-convert`) as a Debian guest would.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cloudInitInput } from "../../helpers/cloud-init-input.ts";
import type { Allocation } from "../../../src/provision/allocate.ts";
import { renderCloudInit } from "../../../src/provision/cloud-init.ts";

const cloudInit = Bun.which("cloud-init");
const v4Only: Allocation = {
  vmid: 4242,
  ipv4: "10.215.0.27",
  ipv4Host: 27,
  ipv4Bits: 27,
  gateway: "10.215.0.1",
  ipv6: null,
  ipv6Host: null,
  ipv6Bits: null,
  ipv6Gateway: null,
};
const dual: Allocation = {
  ...v4Only,
  ipv4Bits: 24,
  ipv6: "fd42:b10c::7",
  ipv6Host: 7,
  ipv6Bits: 120,
  ipv6Gateway: "fd42:b10c::1",
};

function convert(
  networkConfig: string,
  renderer: "eni" | "networkd" | "netplan",
): { code: number; files: Record<string, string>; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "bh-netconv-"));
  try {
    writeFileSync(join(dir, "network-config"), networkConfig);
    const out = join(dir, "out");
    const r = Bun.spawnSync(
      [
        cloudInit!,
        "devel",
        "net-convert",
        "-p",
        join(dir, "network-config"),
        "-k",
        "yaml",
        "-D",
        "debian",
        "-d",
        out,
        "-O",
        renderer,
      ],
      { stderr: "pipe", stdout: "pipe" },
    );
    const files: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else files[join(d, e.name).slice(out.length)] = readFileSync(join(d, e.name), "utf8");
      }
    };
    if (r.exitCode === 0) walk(out);
    return { code: r.exitCode, files, stderr: r.stderr.toString() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const render = (allocation: Allocation) => renderCloudInit(cloudInitInput(allocation, { name: "vm-a" })).networkConfig;

describe.skipIf(!cloudInit)("network-config through the real cloud-init net-convert", () => {
  if (!cloudInit) console.log("skip: cloud-init is not installed (apt-get install cloud-init)");

  test("ENI (Debian 12's renderer): eth0 by MAC, static address and default gateway, /27 and /24+IPv6", () => {
    const v4 = convert(render(v4Only), "eni");
    expect(v4.stderr).not.toContain("Traceback");
    expect(v4.code).toBe(0);
    const eni = v4.files["/etc/network/interfaces.d/50-cloud-init"] ?? "";
    expect(eni).toContain("auto eth0");
    expect(eni).toContain("iface eth0 inet static");
    expect(eni).toContain("address 10.215.0.27/27");
    expect(eni).toContain("gateway 10.215.0.1");
    expect(eni).not.toContain("primary");
    const udev = Object.entries(v4.files).find(([k]) => k.includes("persistent-net"))?.[1] ?? "";
    expect(udev).toContain('ATTR{address}=="52:54:00:00:10:92", NAME="eth0"');

    const both = convert(render(dual), "eni");
    expect(both.code).toBe(0);
    const eni6 = both.files["/etc/network/interfaces.d/50-cloud-init"] ?? "";
    expect(eni6).toContain("iface eth0 inet6 static");
    expect(eni6).toContain("address fd42:b10c::7/128");
    expect(eni6).toContain("gateway fd42:b10c::1");
  }, 60_000);

  test("networkd: one .network matched by MAC with both gateways", () => {
    const r = convert(render(dual), "networkd");
    expect(r.code).toBe(0);
    const net = Object.entries(r.files).find(([k]) => k.endsWith(".network"))?.[1] ?? "";
    expect(net).toContain("Name=eth0");
    expect(net).toContain("Address=10.215.0.27/24");
    expect(net).toContain("Gateway=10.215.0.1");
    expect(net).toContain("Gateway=fd42:b10c::1");
  }, 60_000);
});
