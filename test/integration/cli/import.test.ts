/** `blockhost import` on a host laid out by the original BlockHost: config files read in place, vms.json migrated. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ORIGINAL_ETC, ORIGINAL_VMS, WALLET_A } from "../../fixtures/original-host.ts";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";

/** Lay out an original host's files under `root`. */
function originalHost(root: string): { vmsJson: string } {
  const etc = join(root, "etc/blockhost");
  const state = join(root, "var/lib/blockhost");
  mkdirSync(etc, { recursive: true });
  mkdirSync(state, { recursive: true });
  for (const [name, content] of Object.entries(ORIGINAL_ETC)) writeFileSync(join(etc, name), content);
  const vmsJson = join(state, "vms.json");
  writeFileSync(vmsJson, JSON.stringify(ORIGINAL_VMS, null, 2));
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
    // Nothing imported: not even a database was created, and a read command names the broken file.
    expect(existsSync(join(root, "var/lib/blockhost/blockhost.db"))).toBe(false);
    const list = await runBlockhost(["vm", "list", "--json"], { root });
    expect(list).toMatchObject({ code: 78, stdout: "" });
    expect(list.stderr).toContain("db.yaml: ip_pool.network");
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
