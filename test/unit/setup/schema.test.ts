/** The setup file's schema: defaults, exact keys, and one-line errors naming the key. */
import { expect, test } from "bun:test";
import { parse } from "yaml";
import { blockhostConfigSchema, dbConfigSchema } from "../../../src/core/config/schemas.ts";
import type { SetupContext } from "../../../src/setup/context.ts";
import { renderDbYaml } from "../../../src/setup/render.ts";
import { setupFileSchema } from "../../../src/setup/schema.ts";
import { hostAddress } from "../../../src/setup/steps/https.ts";
import { type LooseSetupFile, sampleSetupFile } from "../../helpers/setup-file.ts";

/** Loosely typed: the tests bend it into invalid shapes. */
type Loose = LooseSetupFile;
const valid = sampleSetupFile;

const problem = (mutate: (d: Loose) => void): string => {
  const d = valid();
  mutate(d);
  try {
    setupFileSchema.parse(d, "");
    return "accepted";
  } catch (e) {
    return (e as Error).message;
  }
};

test("the generated dev file is valid and gets the documented defaults", () => {
  const d = valid();
  delete d.revenue_share;
  delete d.admin_commands;
  delete d.https;
  delete d.admin.public_secret;
  const parsed = setupFileSchema.parse(d, "");
  expect(parsed.admin.public_secret).toBe("blockhost-access");
  expect(parsed.revenue_share).toEqual({ enabled: false, percent: 1 });
  expect(parsed.admin_commands).toBe("none");
  expect(parsed.network.gc_grace_days).toBe(7);
});

test("bad values name the key and what was expected", () => {
  expect(
    problem((d) => {
      d.chain.generate_deployer = true;
    }),
  ).toBe("chain: expected exactly one of deployer_key_file or generate_deployer: true");
  expect(
    problem((d) => {
      delete d.chain.deployer_key_file;
    }),
  ).toBe("chain: expected exactly one of deployer_key_file or generate_deployer: true");
  expect(
    problem((d) => {
      d.chain.contracts = { nft: "0x12" };
    }),
  ).toContain('chain.contracts: expected "deploy" or {nft, subscriptions} addresses');
  expect(
    problem((d) => {
      d.backend = "vmware";
    }),
  ).toContain('backend: expected "dry-run", {proxmox:');
  expect(
    problem((d) => {
      d.network.ipv6 = { manual: "2001:db8::/32" };
    }),
  ).toContain(
    'network.ipv6: expected "none", {manual: <prefix>, uplink, ndp_proxy} (ndp_proxy needs uplink) or {broker:',
  );
  expect(
    problem((d) => {
      d.network.ipv6 = { manual: "2001:db8::/64", ndp_proxy: true };
    }),
  ).toContain("(ndp_proxy needs uplink)");
  expect(
    problem((d) => {
      d.network.ipv6 = { manual: "2001:db8::/64", uplink: "eth0; rm -rf /" };
    }),
  ).toContain("network.ipv6: expected");
  expect(
    problem((d) => {
      d.admin.wallet = "0xabc";
    }),
  ).toBe("admin.wallet: expected a 0x-prefixed 20-byte hex address");
  expect(
    problem((d) => {
      d.plan.memory_mb = 100;
    }),
  ).toBe("plan.memory_mb: expected an integer from 256 to 1048576");
  expect(
    problem((d) => {
      d.revenue_share = { enabled: true, percent: 75 };
    }),
  ).toBe("revenue_share.percent: expected a number from 0 to 50");
  expect(
    problem((d) => {
      d.extra = 1;
    }),
  ).toContain("extra: unknown key");
});

test("a libvirt backend uses the keys blockhost.yaml's libvirt: section takes", () => {
  const d = sampleSetupFile({
    backend: {
      backend: { libvirt: { bridge: "bhdev0", network: "blockhost-dev" } },
      network: "10.216.0.0/24",
      gateway: "10.216.0.1",
    },
  });
  const parsed = setupFileSchema.parse(d, "");
  expect(parsed.network.ipv4.network).toBe("10.216.0.0/24");
  const b = parsed.backend;
  if (b === "dry-run" || !("libvirt" in b)) throw new Error("expected a libvirt backend");
  expect(b.libvirt).toEqual({ bridge: "bhdev0", network: "blockhost-dev", accel: "auto" });
  // What finalize writes to blockhost.yaml's libvirt: section is accepted by the engine's schema.
  const lv = blockhostConfigSchema.parse(
    { server: { key_file: "/etc/blockhost/server.key" }, backend: "libvirt", libvirt: b.libvirt },
    "",
  ).libvirt;
  expect(lv).toMatchObject({ uri: "qemu:///system", bridge: "bhdev0", network: "blockhost-dev", accel: "auto" });
  expect(
    problem((x) => {
      x.backend = { libvirt: { bridge: "br0", storage_pool: "blockhost" } };
    }),
  ).toContain("{libvirt: {bridge, network, template, accel}}");
});

test("a manual IPv6 prefix takes an optional uplink and NDP proxy (off unless asked for)", () => {
  const d = valid();
  d.network.ipv6 = { manual: "2001:db8:1::/64" };
  expect(setupFileSchema.parse(d, "").network.ipv6).toEqual({ manual: "2001:db8:1::/64", ndp_proxy: false });
  d.network.ipv6 = { manual: "2001:db8:1::/64", uplink: "eth0", ndp_proxy: true };
  expect(setupFileSchema.parse(d, "").network.ipv6).toEqual({
    manual: "2001:db8:1::/64",
    uplink: "eth0",
    ndp_proxy: true,
  });
});

test("db.yaml names the NDP proxy uplink only when NDP proxy is on, in the shape the provisioner reads", () => {
  const render = (v6: unknown) => {
    const d = valid();
    d.network.ipv6 = v6;
    const ctx = { file: setupFileSchema.parse(d, ""), fileName: "setup.yaml" } as SetupContext;
    return dbConfigSchema.parse(parse(renderDbYaml(ctx)), "db.yaml").ipv6_pool;
  };
  // The prefix lives only in broker-allocation.json (the ipv6 step's file), not a second time here.
  expect(render({ manual: "2001:db8:1::/64", uplink: "eth0", ndp_proxy: true })).toEqual({ ndp_proxy_dev: "eth0" });
  expect(render({ manual: "2001:db8:1::/64", uplink: "eth0" })).toBeUndefined();
  expect(render("none")).toBeUndefined();
  // The broker's prefix is not known when db.yaml is written: VMs take it from broker-allocation.json.
  expect(render({ broker: { registry: `0x${"1".repeat(40)}` } })).toBeUndefined();
});

test("broker mode names the registry, optionally a broker, and a reply timeout [300 s]", () => {
  const d = valid();
  d.network.ipv6 = { broker: { registry: `0x${"1".repeat(40)}` } };
  expect(setupFileSchema.parse(d, "").network.ipv6).toEqual({
    broker: { registry: `0x${"1".repeat(40)}`, timeout_s: 300 },
  });
  expect(
    problem((x) => {
      x.network.ipv6 = { broker: { registry: "0x12" } };
    }),
  ).toContain("network.ipv6: expected");
});

test("the https step names the host by its public prefix::2 when no hostname is set", () => {
  const d = valid();
  delete d.https;
  d.network.ipv6 = { manual: "2001:db8:1::/64" };
  const ctx = { file: setupFileSchema.parse(d, ""), fileName: "setup.yaml" } as SetupContext;
  expect(hostAddress(ctx)).toBe("2001:db8:1::2");
  d.https = { hostname: "vms.example.org" };
  expect(hostAddress({ ...ctx, file: setupFileSchema.parse(d, "") })).toBe("vms.example.org");
});

test("network.ipv4.nameservers (IPv4 and IPv6) becomes db.yaml ip_pool.nameservers; a non-address is refused", () => {
  const d = valid();
  (d.network.ipv4 as Record<string, unknown>).nameservers = ["9.9.9.9", "2620:fe::fe"];
  const ctx = { file: setupFileSchema.parse(d, ""), fileName: "setup.yaml" } as SetupContext;
  expect(dbConfigSchema.parse(parse(renderDbYaml(ctx)), "db.yaml").ip_pool.nameservers).toEqual([
    "9.9.9.9",
    "2620:fe::fe",
  ]);
  expect(
    problem((x) => {
      (x.network.ipv4 as Record<string, unknown>).nameservers = ["dns.example"];
    }),
  ).toContain("network.ipv4.nameservers");
});
