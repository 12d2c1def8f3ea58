/** `blockhost vm` and `gc` through the binary (dry-run backend). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost } from "../../helpers/binary.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const WALLET = "0x2222222222222222222222222222222222222222";
let env: { root: string; cleanup: () => void };
const bh = (args: string[], extra: Record<string, string> = {}) => runBlockhost(args, { root: env.root, env: extra });
/** The database state `vm status --json` reports (its power is null on the dry-run backend). */
const vmState = async (name: string) =>
  JSON.parse((await bh(["vm", "status", name, "--json"])).stdout).status as string;
const listJson = async () => JSON.parse((await bh(["vm", "list", "--json"])).stdout) as Array<Record<string, unknown>>;

beforeAll(() => {
  env = provisionRoot({ ipv6Prefix: "2001:db8:9::/120" });
});
afterAll(() => env.cleanup());

describe("blockhost vm / gc (compiled binary, dry-run backend)", () => {
  test("create without --apply prints the plan and changes nothing", async () => {
    const r = await bh(["vm", "create", "web1", "--owner-wallet", WALLET]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("plan: create VM web1");
    expect(r.stdout).toContain("192.168.122.200");
    expect(r.stdout).toContain("dry-run backend");
    expect(await listJson()).toEqual([]);
  });

  test("create --apply records the VM, writes 0600 cloud-init and prints the result line", async () => {
    const r = await bh([
      "vm",
      "create",
      "web1",
      "--owner-wallet",
      WALLET,
      "--expiry-days",
      "3",
      "--cpu",
      "2",
      "--apply",
    ]);
    expect(r.code).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.startsWith("BLOCKHOST_RESULT: "))!;
    expect(JSON.parse(line.slice(18))).toMatchObject({
      status: "ok",
      vm_name: "web1",
      ip: "192.168.122.200",
      ipv6: "2001:db8:9::3",
      vmid: 100,
      backend: "dry-run",
    });
    const userData = join(env.root, "var/lib/blockhost/cloud-init/web1/user-data");
    expect(statSync(userData).mode & 0o777).toBe(0o600);
    expect(readFileSync(userData, "utf8")).toContain(`gecos: wallet=${WALLET}`);
    expect((await bh(["vm", "status", "web1"])).stdout).toBe(
      "active, hypervisor: unknown (not asked: the dry-run backend does not call a hypervisor)\n",
    );
    const [vm] = await listJson();
    expect(Object.keys(vm!)).toEqual(
      expect.arrayContaining([
        "vm_name",
        "vmid",
        "ip_address",
        "ipv6_address",
        "status",
        "owner",
        "wallet_address",
        "owner_wallet",
        "username",
        "purpose",
        "network_mode",
        "created_at",
        "expires_at",
        "suspended_at",
        "destroyed_at",
        "nft_token_id",
        "nft_minted",
        "nft_minted_at",
        "gecos_synced",
        "network_config_synced",
      ]),
    );
  });

  test("bad input: one line, documented exit codes", async () => {
    const dup = await bh(["vm", "create", "web1", "--owner-wallet", WALLET, "--apply"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("already taken");
    const badWallet = await bh(["vm", "create", "x", "--owner-wallet", "0x12"]);
    expect(badWallet.code).toBe(2);
    expect(badWallet.stderr.trim().split("\n")).toHaveLength(1);
    expect((await bh(["vm", "create", "x", "--owner-wallet", WALLET, "--memory", "10"])).code).toBe(2);
    expect((await bh(["vm", "status", "../etc"])).code).toBe(2);
    const unknown = await bh(["vm", "status", "nosuch"]);
    expect(unknown).toMatchObject({ code: 1, stdout: "" });
    expect(unknown.stderr).toBe('blockhost vm status: no VM named "nosuch" (see: blockhost vm list)\n');
  });

  test("gc: dry run by default; suspends after expiry; destroys after the grace period and frees addresses", async () => {
    const later = new Date(Date.now() + 4 * 86_400_000).toISOString();
    const plan = await bh(["gc"], { BLOCKHOST_NOW: later });
    expect(plan.stdout).toContain("would suspend web1");
    expect(await vmState("web1")).toBe("active");
    const run = await bh(["gc", "--execute"], { BLOCKHOST_NOW: later });
    expect(run.code).toBe(0);
    expect(await vmState("web1")).toBe("suspended");
    const inGrace = new Date(Date.now() + 10 * 86_400_000).toISOString();
    expect((await bh(["gc", "--execute"], { BLOCKHOST_NOW: inGrace })).stdout).toContain("0 done");
    const afterGrace = new Date(Date.now() + 12 * 86_400_000).toISOString();
    expect((await bh(["gc", "--execute", "--grace-days", "7"], { BLOCKHOST_NOW: afterGrace })).stdout).toContain(
      "destroyed web1",
    );
    expect(await vmState("web1")).toBe("destroyed");
    const next = await bh(["vm", "create", "web2", "--owner-wallet", WALLET, "--apply"]);
    expect(next.stdout).toContain('"ip":"192.168.122.200"');
    expect(next.stdout).toContain('"vmid":101');
  });

  test("resume sets an absolute expiry; destroy is idempotent", async () => {
    expect((await bh(["gc", "--execute"], { BLOCKHOST_NOW: "2099-01-01T00:00:00Z" })).stdout).toContain(
      "suspended web2",
    );
    const r = await bh(["vm", "resume", "web2", "--expires-at", "2100-01-01T00:00:00Z"], {
      BLOCKHOST_NOW: "2099-01-01T00:00:00Z",
    });
    expect(r.code).toBe(0);
    expect((await listJson()).find((v) => v.vm_name === "web2")).toMatchObject({
      status: "active",
      expires_at: "2100-01-01T00:00:00Z",
      suspended_at: null,
    });
    expect((await bh(["vm", "destroy", "web2"])).stdout).toContain("destroyed: web2");
    const again = await bh(["vm", "destroy", "web2"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already gone");
    expect((await bh(["vm", "destroy", "never-existed"])).code).toBe(0);
  });

  test("import-json reads a legacy vms.json and keeps its VMIDs and addresses taken", async () => {
    const legacy = {
      vms: {
        old1: {
          vm_name: "old1",
          vmid: 300,
          ip_address: "192.168.122.200",
          ipv6_address: null,
          status: "active",
          owner: "admin",
          wallet_address: WALLET,
          username: "admin",
          created_at: "2025-01-01T00:00:00",
          expires_at: "2099-01-01T00:00:00",
          nft_token_id: 3,
          nft_minted: true,
        },
        gone: {
          vmid: 301,
          ip_address: "192.168.122.201",
          status: "destroyed",
          wallet_address: WALLET,
          created_at: "2025-01-01T00:00:00",
          expires_at: "2025-02-01T00:00:00",
        },
      },
      next_vmid: 302,
      allocated_ips: ["192.168.122.200"],
    };
    const file = join(env.root, "vms.json");
    writeFileSync(file, JSON.stringify(legacy));
    const r = await bh(["vm", "import-json", file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("imported 2");
    expect(await vmState("old1")).toBe("active");
    const created = await bh(["vm", "create", "web3", "--owner-wallet", WALLET, "--apply"]);
    expect(created.stdout).toContain('"vmid":302');
    expect(created.stdout).toContain('"ip":"192.168.122.201"');
    expect((await bh(["vm", "import-json", file])).stdout).toContain("skipped 2");
    writeFileSync(file, '{"vms": {"bad": {"vmid": "x", "status": "active"}}}');
    const bad = await bh(["vm", "import-json", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("vms.bad.vmid");
    expect(existsSync(file)).toBe(true);
  });
});
