/** The admin panel's usage pages: the host and each node as the sum of their VMs, each VM, JSON twins. */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { migrate } from "../../../src/core/state/db.ts";
import { MIGRATIONS } from "../../../src/core/state/migrations.ts";
import { insertVm } from "../../../src/core/state/vms.ts";
import { samplePass } from "../../../src/engine/usage-duty.ts";
import { DryRunBackend } from "../../../src/provision/backends/dry-run.ts";
import type { ServeDeps } from "../../../src/web/public/deps.ts";
import { type AdminEnv, adminKit } from "../../../src/web/public/admin/kit.tsx";
import { adminUsageRoutes } from "../../../src/web/public/admin/usage.tsx";

const NOW = Date.parse("2026-03-02T12:00:00Z");
afterAll(() => {
  delete process.env.BLOCKHOST_NOW;
});

async function app() {
  process.env.BLOCKHOST_NOW = String(NOW / 1000);
  const db = new Database(":memory:", { strict: true });
  migrate(db, MIGRATIONS);
  const base = { backend: "proxmox", status: "active" as const, ip_address: null, ipv6_address: null, owner: "admin" };
  for (const [i, node] of [
    [1, "pve1"],
    [2, "pve1"],
    [3, "pve2"],
  ] as const)
    insertVm(db, {
      ...base,
      vm_name: `web${i}`,
      vmid: 100 + i,
      node,
      wallet_address: null,
      owner_wallet: null,
      username: "admin",
      purpose: "",
      network_mode: null,
      cpu: 1,
      memory_mb: 2048,
      disk_gb: 20,
      subscription_id: i,
      created_at: "2026-01-01T00:00:00Z",
      expires_at: "2099-01-01T00:00:00Z",
      suspended_at: null,
      destroyed_at: null,
      nft_token_id: i,
      nft_minted: true,
      nft_minted_at: null,
      gecos_synced: true,
      network_config_synced: true,
    });
  for (let m = 30; m >= 0; m--) await samplePass(db, new DryRunBackend(), NOW - m * 60_000);
  const deps = { db, site: { title: "Host", accent: "#336699" } } as unknown as ServeDeps;
  const a = new Hono<AdminEnv>();
  a.use("*", async (c, next) => {
    c.set("walletSession", { wallet: "0xabc", csrf: "t" } as never);
    await next();
  });
  adminUsageRoutes(a, deps, adminKit(deps));
  return a;
}

test("the host is the sum of every VM, a node the sum of its own; each VM has its page and JSON", async () => {
  const a = await app();
  const json = async (path: string) => (await a.request(path)).json();
  const host = await json("/usage.json?range=hour");
  const pve1 = await json("/usage.json?range=hour&node=pve1");
  const vms = await Promise.all([1, 2, 3].map((i) => json(`/usage/vm/web${i}.json?range=hour`)));
  const rx = (s: { used: { rxBytes: number } }) => s.used.rxBytes;
  expect(rx(host)).toBe(rx(vms[0]) + rx(vms[1]) + rx(vms[2]));
  expect(rx(pve1)).toBe(rx(vms[0]) + rx(vms[1]));
  expect(rx(host)).toBeGreaterThan(0);
  const page = await (await a.request("/usage?range=hour")).text();
  expect(page).toContain('href="/admin/usage?node=pve2&amp;range=hour"');
  expect(page).toContain('href="/admin/usage/vm/web3?range=hour"');
  expect(page).toContain('id="host-net"');
  const one = await a.request("/usage/vm/web1?range=day");
  expect(await one.text()).toContain('aria-current="page">Last day</a>');
  expect((await a.request("/usage/vm/nope")).status).toBe(404);
  expect((await a.request("/usage/vm/nope.json")).status).toBe(404);
});
