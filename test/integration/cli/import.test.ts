/** `blockhost import` on a host laid out by the original BlockHost: config files read in place, vms.json migrated. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";

const WALLET_A = "0x1111111111111111111111111111111111111111";
const WALLET_B = "0x2222222222222222222222222222222222222222";

/** An original host's files, as its packages and finalization wrote them (fact sheet §1.4, §4.5, §5.1). */
function originalHost(root: string): { vmsJson: string } {
  const etc = join(root, "etc/blockhost");
  const state = join(root, "var/lib/blockhost");
  mkdirSync(etc, { recursive: true });
  mkdirSync(state, { recursive: true });
  writeFileSync(
    join(etc, "db.yaml"),
    [
      `db_file: /var/lib/blockhost/vms.json`,
      "terraform_dir: /var/lib/blockhost/terraform",
      "bridge: vmbr0",
      "vmid_range: {start: 100, end: 999}",
      "ip_pool: {network: 192.168.122.0/24, start: 200, end: 250, gateway: 192.168.122.1}",
      "default_expiry_days: 30",
      "gc_grace_days: 7",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(etc, "web3-defaults.yaml"),
    [
      "blockchain:",
      "  chain_id: 11155111",
      "  rpc_url: https://rpc.sepolia.org",
      "  nft_contract: '0x3333333333333333333333333333333333333333'",
      "deployer: {private_key_file: /etc/blockhost/deployer.key}",
      "auth: {otp_length: 6, otp_ttl_seconds: 300}",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(etc, "blockhost.yaml"),
    [
      "server: {address: '0x4444444444444444444444444444444444444444', key_file: /etc/blockhost/server.key}",
      "public_secret: blockhost-access",
      "contract_address: '0x5555555555555555555555555555555555555555'",
      "admin: {wallet_address: '0x6666666666666666666666666666666666666666'}",
      "",
    ].join("\n"),
  );
  const vmsJson = join(state, "vms.json");
  writeFileSync(
    vmsJson,
    JSON.stringify(
      {
        vms: {
          "blockhost-100": {
            vm_name: "blockhost-100",
            vmid: 100,
            ip_address: "192.168.122.200",
            status: "active",
            owner: "admin",
            wallet_address: WALLET_A,
            username: "admin",
            purpose: "",
            created_at: "2025-05-01T10:00:00",
            expires_at: "2025-06-01T10:00:00",
            subscription_id: 1,
          },
          "blockhost-101": {
            vm_name: "blockhost-101",
            vmid: 101,
            ip_address: "192.168.122.201",
            status: "suspended",
            owner: "admin",
            wallet_address: WALLET_B,
            username: "admin",
            purpose: "",
            created_at: "2025-05-02T10:00:00",
            expires_at: "2025-05-09T10:00:00",
            suspended_at: "2025-05-09T10:05:00",
            subscription_id: 2,
          },
        },
        next_vmid: 104,
        allocated_ips: ["192.168.122.200", "192.168.122.201"],
        reserved_nft_tokens: {
          "0": {
            vm_name: "blockhost-100",
            status: "minted",
            reserved_at: "2025-05-01T10:00:01.123456+00:00",
            owner_wallet: WALLET_A,
            minted_at: "2025-05-01T10:00:05.654321+00:00",
          },
          "1": { vm_name: "blockhost-101", status: "reserved", reserved_at: "2025-05-02T10:00:01+00:00" },
        },
      },
      null,
      2,
    ),
  );
  return { vmsJson };
}

describe("blockhost import", () => {
  let root: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir: root, cleanup } = tempDir("bh-import-")));
  afterEach(() => cleanup());

  test("migrates vms.json, linking tokens that only reserved_nft_tokens names, and keeps the original file", async () => {
    const { vmsJson } = originalHost(root);
    const before = readFileSync(vmsJson, "utf8");
    const r = await runBlockhost(["import"], { root });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok       ${join(root, "etc/blockhost/db.yaml")}`);
    expect(r.stdout).toContain("imported 2 VM(s)");
    expect(r.stdout).toContain("linked NFTs from reserved_nft_tokens: 0→blockhost-100");
    expect(r.stdout).toContain(
      "reservations never minted (not linked; the reconciler checks the chain): 1 (blockhost-101, reserved)",
    );

    const list = await runBlockhost(["vm", "list", "--json"], { root });
    const vms = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    const byName = Object.fromEntries(vms.map((v) => [v.vm_name, v]));
    expect(byName["blockhost-100"]).toMatchObject({
      vmid: 100,
      status: "active",
      nft_token_id: 0,
      nft_minted: true,
      owner_wallet: WALLET_A,
      subscription_id: 1,
      nft_minted_at: "2025-05-01T10:00:05Z",
    });
    expect(byName["blockhost-101"]).toMatchObject({
      vmid: 101,
      status: "suspended",
      nft_token_id: null,
      nft_minted: false,
    });
    expect(readFileSync(vmsJson, "utf8")).toBe(before);

    const again = await runBlockhost(["import"], { root });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("imported 0 VM(s)");
    expect(again.stdout).toContain("already present: blockhost-100, blockhost-101");
  });

  test("a config file our services could not load stops the import with exit 78, naming file and key", async () => {
    originalHost(root);
    writeFileSync(
      join(root, "etc/blockhost/db.yaml"),
      "ip_pool: {network: not-a-cidr, start: 1, end: 2, gateway: 10.0.0.1}\n",
    );
    const r = await runBlockhost(["import"], { root });
    expect(r.code).toBe(78);
    expect(r.stdout).toMatch(/invalid {2}.*db\.yaml: .*ip_pool\.network/);
    expect(r.stderr).toContain("1 config file(s) need fixing before import");
    // Nothing imported: not even a database was created (vm list, which only reads, says so).
    const list = await runBlockhost(["vm", "list", "--json"], { root });
    expect(list).toMatchObject({ code: 1, stdout: "" });
    expect(list.stderr).toContain("not set up yet: no database at");
  });

  test("a malformed reserved_nft_tokens is refused with one line and nothing imported", async () => {
    const { vmsJson } = originalHost(root);
    const data = JSON.parse(readFileSync(vmsJson, "utf8"));
    data.reserved_nft_tokens = { "not-a-number": { vm_name: "blockhost-100", status: "minted" } };
    writeFileSync(vmsJson, JSON.stringify(data));
    const r = await runBlockhost(["import"], { root });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("reserved_nft_tokens.not-a-number: expected a token id");
    const list = await runBlockhost(["vm", "list", "--json"], { root });
    expect(list).toMatchObject({ code: 1, stdout: "" });
    expect(list.stderr).toContain("not set up yet: no database at");
  });
});
