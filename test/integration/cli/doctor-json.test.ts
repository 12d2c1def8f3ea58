/** `blockhost doctor` and every `--json` output, against a real anvil, a real agent and the compiled binary. */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { CONFIG_FILES } from "../../../src/agent/actions/config.ts";
import { accessCredentialNftAbi } from "../../../src/chain/contracts/generated/AccessCredentialNFT.ts";
import { blockhostGid, blockhostUid } from "../../../src/core/fs.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import { recordSubscriptionCreated } from "../../../src/core/state/subscriptions.ts";
import { parsePrivateKey, publicKeyOf } from "../../../src/crypto/keys.ts";
import { type RunningAgent, startAgent } from "../../helpers/agent.ts";
import { type Anvil, anvilAvailable, startAnvil } from "../../helpers/anvil.ts";
import { type ChainRoot, chainRoot, ROLE_ACCOUNT } from "../../helpers/chain-root.ts";
import { devnet, send, type Devnet } from "../../helpers/contracts.ts";

// Chain round trips and process starts: generous, never a timing assertion.
setDefaultTimeout(90_000);

interface Doctor {
  ok: boolean;
  checks: Array<{ name: string; status: "ok" | "fail" | "skip"; detail: string; fix: string | null }>;
}

describe.skipIf(!anvilAvailable())("blockhost doctor and --json (real anvil, real agent)", () => {
  let anvil: Anvil;
  let net: Devnet;
  let root: ChainRoot;
  let agent: RunningAgent | undefined;
  let nft: Hex;
  const etc = (f: string) => join(root.configDir, f);
  const bh = (...args: string[]) => root.run(args);
  const doctor = async () => {
    const r = await bh("doctor", "--json");
    return { code: r.code, report: JSON.parse(r.stdout) as Doctor, stderr: r.stderr };
  };
  const failed = (d: Doctor) => d.checks.filter((c) => c.status === "fail").map((c) => c.name);

  /** Owners and modes as finalize leaves them (the seed's table). */
  function setModes() {
    const gid = blockhostGid() ?? 0;
    chownSync(root.configDir, 0, gid);
    chmodSync(root.configDir, 0o750);
    const state = join(root.dir, "var/lib/blockhost");
    chownSync(state, blockhostUid() ?? 0, gid);
    chmodSync(state, 0o750);
    for (const [file, spec] of Object.entries(CONFIG_FILES)) {
      try {
        chownSync(etc(file), 0, gid);
        chmodSync(etc(file), spec.mode);
      } catch {
        // not every file exists on every host
      }
    }
  }

  beforeAll(async () => {
    anvil = await startAnvil();
    net = devnet(anvil);
    root = chainRoot(anvil);
    const deployed = await bh("contracts", "deploy");
    if (deployed.code !== 0) throw new Error(deployed.stderr);
    const [n, subs] = deployed.stdout.trim().split("\n") as [Hex, Hex];
    nft = n;
    root.web3.blockchain = { ...(root.web3.blockchain as object), nft_contract: nft, subscription_contract: subs };
    root.writeWeb3();
    const serverKey = anvil.accounts[3]!.privateKey.slice(2);
    writeFileSync(etc("server.key"), `${serverKey}\n`, { mode: 0o600 });
    writeFileSync(etc("server.pubkey"), `0x${Buffer.from(publicKeyOf(parsePrivateKey(serverKey))).toString("hex")}\n`);
    writeFileSync(etc("blockhost.yaml"), `${readFileSync(etc("blockhost.yaml"), "utf8")}backend: dry-run\n`);
    writeFileSync(
      etc("db.yaml"),
      "vmid_range: {start: 100, end: 999}\n" +
        "ip_pool: {network: '192.168.122.0/24', start: 200, end: 250, gateway: '192.168.122.1'}\n",
    );
    mkdirSync(join(root.dir, "var/lib/blockhost"), { recursive: true });
    const created = await bh("vm", "create", "web1", "--owner-wallet", anvil.accounts[1]!.address, "--apply");
    if (created.code !== 0) throw new Error(created.stderr);
    const plan = await bh("wallet", "plan", "create", "basic", "150");
    if (plan.code !== 0) throw new Error(plan.stderr);
    // What the engine records from a SubscriptionCreated log (the engine itself is tested elsewhere).
    const db = openDatabase(join(root.dir, "var/lib/blockhost/blockhost.db"));
    recordSubscriptionCreated(db, anvil.chainId, {
      subscription_id: 1,
      subscriber: anvil.accounts[1]!.address,
      plan_id: 1,
      expires_at: Math.floor(Date.now() / 1000) + 30 * 86_400,
      user_encrypted: "0x",
      block_number: 1,
      tx_hash: `0x${"ab".repeat(32)}`,
    });
    db.run("UPDATE vms SET subscription_id = 1 WHERE vm_name = 'web1'");
    db.close();
    setModes();
    agent = await startAgent({ root: root.dir });
  });
  afterAll(async () => {
    await agent?.stop();
    await anvil?.stop();
    root?.cleanup();
  });

  test("a healthy host: every check ok, services honestly skipped without systemd, exit 0", async () => {
    const r = await bh("doctor");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    for (const l of lines) expect(l).toMatch(/^(ok {2}|skip) {2}\S/);
    for (const name of ["config ", "mode ", "key server.key", "key deployer", "chain", "contract nft"])
      expect(r.stdout).toContain(`ok    ${name}`);
    expect(r.stdout).toContain("ok    contract subscriptions");
    expect(r.stdout).toContain("ok    nft owner: the deployer");
    expect(r.stdout).toContain("ok    agent: answers on");
    expect(r.stdout).toContain("ok    backend: dry-run");
    expect(r.stdout).toContain("ok    pool ipv4: 50 left");
    const pid1 = readFileSync("/proc/1/comm", "utf8").trim();
    if (pid1 !== "systemd") expect(r.stdout).toContain("skip  services: unknown: systemd is not PID 1 here");
    const { report } = await doctor();
    expect(report.ok).toBe(true);
    expect(failed(report)).toEqual([]);
  });

  test("each broken part is one FAIL line with a fix, and exit 1", async () => {
    const expectFailure = async (name: string, detail: string, fix: string) => {
      const { code, report, stderr } = await doctor();
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      expect(failed(report)).toEqual([name]);
      const c = report.checks.find((x) => x.name === name)!;
      expect(c.detail).toContain(detail);
      expect(c.fix).toContain(fix);
      expect(stderr).toBe(`blockhost doctor: 1 of ${report.checks.length} checks failed\n`);
    };

    // A key file the service user cannot read (0600, where the table says 0640 root:blockhost).
    chmodSync(etc("deployer.key"), 0o600);
    await expectFailure(`mode ${etc("deployer.key")}`, "mode 0600, expected 0640", "chmod 640");
    setModes();

    // A config file that does not parse.
    const book = readFileSync(etc("addressbook.json"), "utf8");
    writeFileSync(etc("addressbook.json"), book.replace(/"admin": \{/, '"Admin Wallet": {'));
    await expectFailure(`config ${etc("addressbook.json")}`, "Admin Wallet", "a valid addressbook");

    // The addressbook names a hot wallet its key file does not belong to.
    const hot = anvil.accounts[ROLE_ACCOUNT.hot]!.address;
    writeFileSync(etc("addressbook.json"), book.replace(hot, anvil.accounts[2]!.address));
    await expectFailure("key hot", `holds the key of ${hot}`, "put the matching key");
    writeFileSync(etc("addressbook.json"), book);

    // The configured chain id is not the chain the RPC serves.
    root.web3.blockchain = { ...(root.web3.blockchain as object), chain_id: 1 };
    root.writeWeb3();
    await expectFailure("chain", `the RPC answers chain id ${anvil.chainId}`, "rpc_url");
    root.web3.blockchain = { ...(root.web3.blockchain as object), chain_id: anvil.chainId };
    root.writeWeb3();
    setModes();

    // The NFT contract handed to another owner: every mint would revert.
    const other = anvil.accounts[4]!.address;
    const nftCall = (from: number, to: Hex) =>
      send(net, from, { address: nft, abi: accessCredentialNftAbi, functionName: "transferOwnership", args: [to] });
    await nftCall(ROLE_ACCOUNT.server, other);
    await expectFailure("nft owner", `owned by ${other}`, "transferOwnership");
    await nftCall(4, anvil.accounts[ROLE_ACCOUNT.server]!.address);

    // The address pool is used up: the next purchase could not be served.
    const pools = readFileSync(etc("db.yaml"), "utf8");
    writeFileSync(etc("db.yaml"), pools.replace("end: 250", "end: 200"));
    await expectFailure("pool ipv4", "none left", "widen ip_pool");
    writeFileSync(etc("db.yaml"), pools);

    // The agent is down.
    await agent!.stop();
    agent = undefined;
    const down = await doctor();
    expect(down.code).toBe(1);
    expect(failed(down.report)).toEqual(["agent"]);
    expect(down.report.checks.find((c) => c.name === "agent")!.fix).toContain("blockhost-agent");
    agent = await startAgent({ root: root.dir });
    expect((await doctor()).code).toBe(0);
  });

  // Every command that prints data, its --json parsed and its documented keys present (docs/operator/run-upgrade-backup.md: "--json").
  const JSON_OUTPUTS: Array<{ args: string[]; keys: string[]; item?: string[] }> = [
    {
      args: ["status", "--json"],
      keys: ["backend", "dry_run", "chain", "jobs", "failing_jobs", "vms", "certificate", "problems"],
    },
    {
      args: ["vm", "list", "--json"],
      keys: [],
      item: ["vm_name", "vmid", "ip_address", "ipv6_address", "status", "wallet_address", "expires_at"],
    },
    {
      args: ["vm", "status", "web1", "--json"],
      keys: ["vm_name", "vmid", "backend", "status", "expires_at", "power", "power_note"],
    },
    {
      args: ["vm", "create", "web2", "--owner-wallet", "0x2222222222222222222222222222222222222222", "--json"],
      keys: ["applied", "dry_run", "plan", "result"],
    },
    { args: ["gc", "--json"], keys: ["executed", "dry_run", "actions", "errors"] },
    {
      args: ["subscriptions", "list", "--json"],
      keys: [],
      item: ["chain_id", "id", "wallet", "plan_id", "expires_at", "cancelled", "vm_name", "vm_status"],
    },
    { args: ["wallet", "plan", "list", "--json"], keys: [], item: ["id", "name", "price_cents_per_day", "active"] },
    { args: ["wallet", "balance", "server", "--json"], keys: ["address", "balances"] },
    { args: ["addressbook", "list", "--json"], keys: ["server", "hot", "admin"] },
    { args: ["finalize", "status", "--json"], keys: ["steps"] },
    { args: ["contracts", "deploy", "nft", "--json"], keys: ["nft"] },
    {
      args: ["mint", "--owner-wallet", "0x2222222222222222222222222222222222222222", "--dry-run", "--json"],
      keys: ["token_id", "to", "contract", "tx", "dry_run"],
    },
    { args: ["doctor", "--json"], keys: ["ok", "checks"] },
  ];

  test.each(JSON_OUTPUTS)("$args: valid JSON with the documented keys", async ({ args, keys, item }) => {
    const r = await bh(...args);
    expect(r.code).toBe(0);
    // stderr carries only the structured log (one JSON event per line), never the answer.
    for (const line of r.stderr.split("\n").filter(Boolean)) expect(typeof JSON.parse(line).event).toBe("string");
    const value = JSON.parse(r.stdout) as Record<string, unknown> | Array<Record<string, unknown>>;
    if (item) {
      expect(Array.isArray(value)).toBe(true);
      expect((value as unknown[]).length).toBeGreaterThan(0);
      for (const row of value as Array<Record<string, unknown>>)
        expect(Object.keys(row)).toEqual(expect.arrayContaining(item));
    } else expect(Object.keys(value)).toEqual(expect.arrayContaining(keys));
  });

  test("the JSON says what the text says", async () => {
    const plans = JSON.parse((await bh("wallet", "plan", "list", "--json")).stdout);
    expect(plans).toEqual([{ id: 1, name: "basic", price_cents_per_day: 150, active: true }]);
    const table = (await bh("wallet", "plan", "list")).stdout;
    expect(table).toBe("ID  NAME   PRICE/DAY  ACTIVE\n1   basic  $1.50      yes\n");
    const subs = JSON.parse((await bh("subscriptions", "list", "--json")).stdout);
    expect(subs).toEqual([
      expect.objectContaining({
        id: 1,
        wallet: anvil.accounts[1]!.address,
        plan_id: 1,
        vm_name: "web1",
        vm_status: "active",
      }),
    ]);
    const mine = await bh("subscriptions", "list", "--wallet", anvil.accounts[1]!.address.toLowerCase(), "--json");
    expect(JSON.parse(mine.stdout)).toHaveLength(1);
    const none = await bh("subscriptions", "list", "--wallet", anvil.accounts[2]!.address, "--json");
    expect(JSON.parse(none.stdout)).toEqual([]);
    const created = JSON.parse(
      (await bh("vm", "create", "web3", "--owner-wallet", anvil.accounts[2]!.address, "--apply", "--json")).stdout,
    );
    expect(created).toMatchObject({ applied: true, dry_run: true, result: { status: "ok", vm_name: "web3" } });
    expect(created.plan.vm_name).toBe("web3");
  });
});
