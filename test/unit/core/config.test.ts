/** Config files in the seed's formats. */
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadBlockhostConfig, loadDbConfig, loadWeb3Config } from "../../../src/core/config/index.ts";
import { BlockhostError, exitCodeFor } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/binary.ts";

const SEED_DB = `db_file: /var/lib/blockhost/vms.json
terraform_dir: /var/lib/blockhost/terraform
vmid_range: {start: 100, end: 999}
ip_pool: {network: '192.168.122.0/24', start: 200, end: 250, gateway: '192.168.122.1'}
ipv6_pool: {start: 2, end: 254}
gc_grace_days: 7
`;
const SEED_WEB3 = `blockchain: {chain_id: 11155111, rpc_url: 'https://rpc.example.org', nft_contract: '0x${"1".repeat(40)}', subscription_contract: '0x${"2".repeat(40)}'}
deployer: {private_key_file: '/etc/blockhost/deployer.key'}
server: {public_key: '0x04${"ab".repeat(64)}'}
`;
const SEED_BLOCKHOST = `server: {address: '0x${"3".repeat(40)}', key_file: '/etc/blockhost/server.key'}
deployer: {key_file: '/etc/blockhost/deployer.key'}
proxmox: {node: 'proxmox', storage: 'local-lvm', bridge: 'vmbr0'}
admin: {wallet_address: '0x${"4".repeat(40)}', destination_mode: 'self'}
`;

let tmp: ReturnType<typeof tempDir>;
afterEach(() => tmp?.cleanup());
const file = (name: string, text: string) => {
  tmp ??= tempDir();
  const path = join(tmp.dir, name);
  writeFileSync(path, text);
  return path;
};
const failure = (fn: () => unknown): BlockhostError => {
  try {
    fn();
  } catch (e) {
    return e as BlockhostError;
  }
  throw new Error("expected a failure");
};

describe("config files in the seed's formats", () => {
  test("db.yaml loads with defaults filled in", () => {
    tmp = tempDir();
    const cfg = loadDbConfig(file("db.yaml", SEED_DB));
    expect(cfg.ip_pool).toEqual({ network: "192.168.122.0/24", start: 200, end: 250, gateway: "192.168.122.1" });
    expect(cfg.vmid_range).toEqual({ start: 100, end: 999 });
    expect(cfg.default_expiry_days).toBe(30);
    expect(cfg.gc_grace_days).toBe(7);
  });
  test("web3-defaults.yaml loads with auth defaults", () => {
    tmp = tempDir();
    const cfg = loadWeb3Config(file("web3-defaults.yaml", SEED_WEB3));
    expect(cfg.blockchain.chain_id).toBe(11155111);
    expect(cfg.auth).toEqual({ otp_length: 6, otp_ttl_seconds: 300 });
  });
  test("blockhost.yaml loads", () => {
    tmp = tempDir();
    const cfg = loadBlockhostConfig(file("blockhost.yaml", SEED_BLOCKHOST));
    expect(cfg.proxmox?.bridge).toBe("vmbr0");
    expect(cfg.admin?.destination_mode).toBe("self");
  });
});

describe("invalid config names the file, the key and the expectation (exit 78)", () => {
  const cases: Array<[string, string, string]> = [
    [
      "a bad gateway",
      SEED_DB.replace("192.168.122.1'", "192.168.122.999'"),
      "ip_pool.gateway: expected an IPv4 address",
    ],
    [
      "host bits in the network",
      SEED_DB.replace("192.168.122.0/24", "192.168.122.5/24"),
      "ip_pool.network: expected an IPv4 network",
    ],
    [
      "an inverted VMID range",
      SEED_DB.replace("start: 100, end: 999", "start: 999, end: 100"),
      "vmid_range: expected start ≤ end",
    ],
    [
      "a VMID below 100",
      SEED_DB.replace("start: 100,", "start: 5,"),
      "vmid_range.start: expected an integer from 100 to 999999",
    ],
    ["a typo'd key", `${SEED_DB}gc_grace_dayz: 3\n`, "gc_grace_dayz: unknown key"],
    [
      "a string for a number",
      SEED_DB.replace("gc_grace_days: 7", "gc_grace_days: seven"),
      "gc_grace_days: expected an integer",
    ],
    ["a missing section", "gc_grace_days: 7\n", "ip_pool: expected an object"],
    ["broken YAML", "ip_pool: [\n", "not valid YAML"],
    ["a duplicate key", `${SEED_DB}gc_grace_days: 8\n`, "not valid YAML"],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => {
      tmp = tempDir();
      const path = file("db.yaml", text);
      const e = failure(() => loadDbConfig(path));
      expect(e).toBeInstanceOf(BlockhostError);
      expect(e.code).toBe("E_CONFIG_INVALID");
      expect(e.message).toStartWith(`${path}: `);
      expect(e.message).toContain(message);
      expect(e.message).not.toContain("\n");
      expect(exitCodeFor(e)).toBe(78);
    });
  }
  test("a missing file is a config error naming the path", () => {
    const e = failure(() => loadWeb3Config("/nonexistent/web3-defaults.yaml"));
    expect(e.code).toBe("E_CONFIG_MISSING");
    expect(e.message).toBe("/nonexistent/web3-defaults.yaml: file not found");
    expect(exitCodeFor(e)).toBe(78);
  });
  test("a non-URL rpc_url is refused", () => {
    tmp = tempDir();
    const path = file("web3-defaults.yaml", SEED_WEB3.replace("https://rpc.example.org", "file:///etc/passwd"));
    expect(failure(() => loadWeb3Config(path)).message).toContain(
      "blockchain.rpc_url: expected an http(s) or ws(s) URL",
    );
  });
  test("YAML aliases are refused (no entity expansion)", () => {
    tmp = tempDir();
    const path = file("blockhost.yaml", "a: &x [1]\nb: *x\n");
    expect(failure(() => loadBlockhostConfig(path)).code).toBe("E_CONFIG_INVALID");
  });
});
