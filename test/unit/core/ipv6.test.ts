/** The one IPv6 prefix rule (core/ipv6.ts) and every reader that checks a prefix agrees with it. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dbConfigSchema } from "../../../src/core/config/schemas.ts";
import { ipv6InPrefix, ipv6PrefixProblem, parseIpv6Prefix } from "../../../src/core/ipv6.ts";
import { ipv6WithLength } from "../../../src/core/validators.ts";
import { parseHostPrefix } from "../../../src/network/prefix-host.ts";
import { brokerResponseSchema } from "../../../src/core/config/broker-allocation.ts";
import { ipv6Pool } from "../../../src/core/config/network.ts";
import { ipv6Schema } from "../../../src/setup/schema.ts";

// The pool reads broker-allocation.json first: an empty root has none, so the prefix under test is used.
let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "bh-ipv6-"));
  process.env.BLOCKHOST_ROOT = root;
});
afterAll(() => {
  delete process.env.BLOCKHOST_ROOT;
  rmSync(root, { recursive: true, force: true });
});

const ACCEPTED = ["2001:db8::/48", "2001:db8:1::/64", "2001:db8::100/120", "fd42:b10c::/120"];
const REFUSED = [
  "2001:db8::/47", // wider than a site
  "2001:db8::100/121", // no room for ::1, ::2 and a VM: the pool once took it, finalize did not
  "2001:db8::5/128", // an address, not a prefix: the broker schema once took it
  "2001:db8::5/64", // host bits set: the setup schema once took it
  "2001:db8::zz/64", // not an address: the setup schema once took it
  "10.0.0.0/24",
  "2001:db8::",
];

const BROKER = {
  gateway: "2001:db8::1",
  brokerPubkey: `${"A".repeat(43)}=`,
  brokerEndpoint: "203.0.113.7:51820",
};

const IP_POOL = { network: "192.168.122.0/24", start: 200, end: 250, gateway: "192.168.122.1" };

/** Each place a prefix enters the product, as a yes/no. */
const readers: Record<string, (p: string) => unknown> = {
  rule: (p) => {
    if (ipv6PrefixProblem(p)) throw new Error(ipv6PrefixProblem(p)!);
  },
  parse: (p) => parseIpv6Prefix(p),
  "setup file network.ipv6.manual": (p) => ipv6Schema.parse({ manual: p }, "network.ipv6"),
  "broker answer": (p) => brokerResponseSchema.parse({ ...BROKER, prefix: p }, "broker"),
  "db.yaml ipv6_pool.prefix": (p) => dbConfigSchema.parse({ ip_pool: IP_POOL, ipv6_pool: { prefix: p } }, "db.yaml"),
  "host prefix (setup step, engine restore, certificate)": (p) => parseHostPrefix(p),
  "VM address pool": (p) => ipv6Pool({ ipv6_pool: { prefix: p } } as never),
};

test("every reader accepts the same prefixes and refuses the same ones", () => {
  for (const [name, read] of Object.entries(readers)) {
    for (const p of ACCEPTED) expect({ name, p, ok: tryRead(read, p) }).toEqual({ name, p, ok: true });
    for (const p of REFUSED) expect({ name, p, ok: tryRead(read, p) }).toEqual({ name, p, ok: false });
  }
});

function tryRead(read: (p: string) => unknown, p: string): boolean {
  try {
    read(p);
    return true;
  } catch {
    return false;
  }
}

test("a parsed prefix is canonical and a stored file's bad prefix is a config error", () => {
  expect(parseIpv6Prefix("2001:0db8:0001:0000::/64")).toEqual({
    network: 0x20010db8000100000000000000000000n,
    bits: 64,
    prefix: "2001:db8:1::/64",
  });
  expect(() => parseIpv6Prefix("2001:db8::5/64", "E_CONFIG_INVALID")).toThrow(
    expect.objectContaining({
      code: "E_CONFIG_INVALID",
      message: expect.stringMatching(/did you mean 2001:db8::\/64/),
    }),
  );
  expect(() => parseIpv6Prefix("2001:db8::/121")).toThrow(expect.objectContaining({ code: "E_INVALID_INPUT" }));
});

test("the pool hands out addresses from ::3 inside the prefix", () => {
  const pool = ipv6Pool({ ipv6_pool: { prefix: "2001:db8::100/120" } } as never)!;
  expect(pool.first).toBe(parseIpv6Prefix("2001:db8::100/120").network + 3n);
  expect(pool.gateway).toBe("2001:db8::101");
});

test("membership and the agent's address-with-length form", () => {
  expect(ipv6InPrefix("2001:db8:1::7", "2001:db8:1::/64")).toBe(true);
  expect(ipv6InPrefix("2001:db8:2::7", "2001:db8:1::/64")).toBe(false);
  expect(ipv6InPrefix("not-an-address", "2001:db8:1::/64")).toBe(false);
  expect(ipv6WithLength.parse("2001:db8::2/128")).toBe("2001:db8::2/128");
  expect(() => ipv6WithLength.parse("2001:db8::2/47")).toThrow(expect.objectContaining({ code: "E_SCHEMA" }));
});
