/** VMID and address allocation. */
import { afterEach, describe, expect, test } from "bun:test";
import { openDatabase } from "../../../src/core/state/db.ts";
import { DryRunBackend } from "../../../src/provision/backends/dry-run.ts";
import { openProvisioner, type Provisioner } from "../../../src/provision/context.ts";
import { applyCreate, planCreate, type CreateRequest } from "../../../src/provision/create.ts";
import { destroyVm } from "../../../src/provision/lifecycle.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const WALLET = "0x1111111111111111111111111111111111111111";
const req = (name: string): CreateRequest => ({
  name,
  ownerWallet: WALLET,
  expiresAt: new Date("2030-01-01T00:00:00Z"),
  cpu: 1,
  memoryMb: 2048,
  diskGb: 20,
  username: "admin",
  subscriptionId: null,
  purpose: "",
});

let env: { root: string; cleanup: () => void };
let p: Provisioner;
const quiet = () => {};

function setup(opts: Parameters<typeof provisionRoot>[0]) {
  env = provisionRoot(opts);
  process.env.BLOCKHOST_ROOT = env.root;
  p = openProvisioner({ backend: new DryRunBackend(), say: quiet });
}

afterEach(() => {
  p?.db.close();
  env?.cleanup();
  delete process.env.BLOCKHOST_ROOT;
});

describe("allocation", () => {
  test("a /22 pool hands out addresses across octet boundaries, skipping network, broadcast and gateway", async () => {
    setup({ ipPool: "{network: '10.0.0.0/22', start: '10.0.0.254', end: '10.0.1.1', gateway: '10.0.1.0'}" });
    const ips = [];
    for (const n of ["a", "b", "c"]) ips.push((await applyCreate(p, req(n))).ip_address);
    expect(ips).toEqual(["10.0.0.254", "10.0.0.255", "10.0.1.1"]);
    await expect(applyCreate(p, req("d"))).rejects.toThrow(/no free address/);
  });

  test("a /28 pool with host numbers", async () => {
    setup({ ipPool: "{network: '172.16.5.16/28', start: 1, end: 14, gateway: '172.16.5.17'}" });
    expect((await applyCreate(p, req("a"))).ip_address).toBe("172.16.5.18");
  });

  test("VMIDs are never reused; addresses are released on destroy", async () => {
    setup({ ipv6Prefix: "2001:db8:7::/120" });
    const a = await applyCreate(p, req("a"));
    expect(a.vmid).toBe(100);
    expect(a.ipv6_address).toBe("2001:db8:7::3");
    await destroyVm(p, "a");
    const b = await applyCreate(p, req("b"));
    expect(b.vmid).toBe(101);
    expect(b.ip_address).toBe(a.ip_address);
    expect(b.ipv6_address).toBe(a.ipv6_address);
  });

  test("a freed address below the ones in use is handed out first (the search mark goes back)", async () => {
    setup({ ipv6Prefix: "2001:db8:7::/120" });
    const made = [];
    for (const n of ["a", "b", "c", "d"]) made.push(await applyCreate(p, req(n)));
    await destroyVm(p, "b");
    const e = await applyCreate(p, req("e"));
    expect(e.ip_address).toBe(made[1]!.ip_address);
    expect(e.ipv6_address).toBe(made[1]!.ipv6_address);
    const f = await applyCreate(p, req("f"));
    const last = made[3]!.ip_address!.split(".").map(Number);
    expect(f.ip_address).toBe([...last.slice(0, 3), last[3]! + 1].join("."));
  });

  test("the VMID range runs out with a clear error", async () => {
    setup({ vmidRange: { start: 500, end: 501 } });
    await applyCreate(p, req("a"));
    await applyCreate(p, req("b"));
    await expect(applyCreate(p, req("c"))).rejects.toThrow(/vmid_range 500..501 is used up/);
  });

  test("a failing backend leaves no row and no address taken, but burns the VMID", async () => {
    setup({});
    const failing = new DryRunBackend();
    failing.create = async () => {
      throw new Error("clone failed");
    };
    const broken = { ...p, backend: failing };
    await expect(applyCreate(broken, req("x"))).rejects.toThrow("clone failed");
    expect(p.db.query("SELECT COUNT(*) AS n FROM vms").get()).toEqual({ n: 0 });
    expect(p.db.query("SELECT COUNT(*) AS n FROM ip_allocations").get()).toEqual({ n: 0 });
    const ok = await applyCreate(p, req("x"));
    expect(ok.vmid).toBe(101);
    expect(ok.ip_address).toBe("192.168.122.200");
  });

  test("two database handles allocating at once never share an address or VMID", async () => {
    setup({ ipPool: "{network: '10.1.0.0/16', start: 10, end: 60000, gateway: '10.1.0.1'}" });
    const other = { ...p, db: openDatabase() };
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => applyCreate(i % 2 ? p : other, req(`vm${i}`))));
    other.db.close();
    expect(new Set(made.map((v) => v.vmid)).size).toBe(40);
    expect(new Set(made.map((v) => v.ip_address)).size).toBe(40);
  });

  test("planCreate changes nothing", () => {
    setup({});
    const plan = planCreate(p, req("a"));
    expect(plan.vmid).toBe(100);
    expect(p.db.query("SELECT COUNT(*) AS n FROM vms").get()).toEqual({ n: 0 });
    expect(planCreate(p, req("a")).vmid).toBe(100);
  });
});
