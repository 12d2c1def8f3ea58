/** Truthful state and exit codes of the read commands (compiled binary, dry-run backend). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { openDatabase } from "../../../src/core/state/db.ts";
import { JobQueue } from "../../../src/engine/queue.ts";
import { blockhostBinary, runBlockhost, tempDir } from "../../helpers/binary.ts";
import { freePort } from "../../helpers/anvil.ts";
import { provisionRoot } from "../../helpers/provision-root.ts";

const ALICE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
const BOB = "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359";
/** ALICE with one letter's case flipped: a typo the EIP-55 checksum catches. */
const ALICE_TYPO = "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/** Every file and directory under `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("read commands on a host that is not set up", () => {
  const READS: Array<[string, string[]]> = [
    ["status", []],
    ["vm list", []],
    ["vm status", ["web1"]],
    ["subscriptions list", []],
    ["finalize status", []],
    ["gc", []],
  ];

  test.each(READS)("blockhost %s exits 1 with what to run and creates nothing", async (command, extra) => {
    const args = [...command.split(" "), ...extra];
    const empty = tempDir("blockhost-empty-");
    const configured = provisionRoot();
    try {
      for (const root of [empty.dir, configured.root]) {
        const before = tree(root);
        const r = await runBlockhost(args, { root });
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toStartWith(`blockhost ${command}: not set up yet: no database at `);
        expect(r.stderr).toContain("blockhost finalize --config FILE");
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(tree(root)).toEqual(before);
      }
    } finally {
      empty.cleanup();
      configured.cleanup();
    }
  });
});

describe("status, vm list and addresses on a set-up host", () => {
  let env: { root: string; cleanup: () => void };
  const bh = (...args: string[]) => runBlockhost(args, { root: env.root });
  const etc = (f: string) => join(env.root, "etc/blockhost", f);

  beforeAll(async () => {
    env = provisionRoot();
    for (const [name, owner, days] of [
      ["web1", ALICE, "30"],
      ["web2", BOB, "30"],
      ["web3", ALICE, "1"],
    ] as const) {
      const r = await bh("vm", "create", name, "--owner-wallet", owner, "--expiry-days", days, "--apply");
      if (r.code !== 0) throw new Error(r.stderr);
    }
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const gc = await runBlockhost(["gc", "--execute"], { root: env.root, env: { BLOCKHOST_NOW: later } });
    if (!gc.stdout.includes("suspended web3")) throw new Error(gc.stdout + gc.stderr);
  });
  afterAll(() => env.cleanup());

  test("status lists every dead job: the newest 20 and a count of the rest, all with --all and --json", async () => {
    const db = openDatabase(join(env.root, "var/lib/blockhost/blockhost.db"));
    const queue = new JobQueue(db, { baseMs: 1, maxMs: 1 });
    for (let i = 1; i <= 23; i++) {
      queue.enqueue("provision", `provision:${i}`, {});
      const job = queue.claim(Date.now() + 1000)!;
      queue.fail(job, `payload ${i} does not decrypt`, true);
    }
    db.close();
    const text = await bh("status");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("23 dead");
    expect(text.stdout.match(/^ {2}dead provision:/gm)).toHaveLength(20);
    expect(text.stdout).toContain("… and 3 more (newest first; all of them: blockhost status --all)");
    const all = await bh("status", "--all");
    expect(all.stdout.match(/^ {2}dead provision:/gm)).toHaveLength(23);
    for (let i = 1; i <= 23; i++) expect(all.stdout).toContain(`dead provision:${i} after 1 attempt(s)`);
    expect(all.stdout).not.toContain("more (newest first");
    const json = JSON.parse((await bh("status", "--json")).stdout);
    expect(json.failing_jobs).toHaveLength(23);
    expect(json.jobs.dead).toBe(23);
  });

  test("status with a broken db.yaml prints what it read, then exits 78 naming the file", async () => {
    const good = await Bun.file(etc("db.yaml")).text();
    writeFileSync(etc("db.yaml"), `${good}gc_grace_days: many\n`);
    try {
      const r = await bh("status");
      expect(r.code).toBe(78);
      expect(r.stdout).toContain("vms:      0 creating, 2 active, 1 suspended, 0 destroyed");
      expect(r.stdout).toContain("jobs:");
      expect(r.stderr).toStartWith(`blockhost status: ${etc("db.yaml")}: `);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect((await bh("gc")).code).toBe(78);
    } finally {
      writeFileSync(etc("db.yaml"), good);
    }
  });

  test("status with an unreachable RPC prints the rest and exits 1", async () => {
    const port = await freePort();
    writeFileSync(etc("web3-defaults.yaml"), `blockchain:\n  chain_id: 31337\n  rpc_url: http://127.0.0.1:${port}\n`);
    try {
      const r = await bh("status");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("chain:    31337: head unreachable (");
      expect(r.stdout).toContain("vms:      0 creating, 2 active, 1 suspended, 0 destroyed");
      expect(r.stderr).toStartWith("blockhost status: chain unreachable: ");
      const json = await bh("status", "--json");
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout).problems).toEqual([{ kind: "chain", message: expect.any(String) }]);
    } finally {
      Bun.spawnSync(["rm", "-f", etc("web3-defaults.yaml")]);
    }
  });

  test("vm list: an aligned table without tabs, filtered by --status and --owner", async () => {
    const r = await bh("vm", "list");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\t");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    const col = lines[0]!.indexOf("OWNER");
    for (const l of lines.slice(1)) {
      expect(l).toBe(l.trimEnd());
      expect(l.slice(col, col + 2)).toBe("0x");
    }
    const names = async (...args: string[]) =>
      (JSON.parse((await bh("vm", "list", "--json", ...args)).stdout) as { vm_name: string }[]).map((v) => v.vm_name);
    expect(await names("--status", "active")).toEqual(["web1", "web2"]);
    expect(await names("--status", "suspended")).toEqual(["web3"]);
    expect(await names("--owner", ALICE)).toEqual(["web1", "web3"]);
    expect(await names("--owner", ALICE.toLowerCase(), "--status", "active")).toEqual(["web1"]);
    expect(await names("--owner", BOB)).toEqual(["web2"]);
    const badStatus = await bh("vm", "list", "--status", "running");
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain("--status: expected one of creating, active, suspended, destroyed");
  });

  test("a mixed-case address with a wrong EIP-55 checksum is refused (exit 2) before anything happens", async () => {
    writeFileSync(etc("web3-defaults.yaml"), "blockchain:\n  chain_id: 31337\n  rpc_url: http://127.0.0.1:9\n");
    try {
      for (const args of [
        ["vm", "create", "typo", "--owner-wallet", ALICE_TYPO, "--apply"],
        ["vm", "list", "--owner", ALICE_TYPO],
        ["subscriptions", "list", "--wallet", ALICE_TYPO],
        ["is", ALICE_TYPO, "contract"],
        ["mint", "--owner-wallet", ALICE_TYPO],
        ["wallet", "balance", ALICE_TYPO],
        ["wallet", "send", "1", "eth", "server", ALICE_TYPO],
      ]) {
        const r = await bh(...args);
        expect({ args, code: r.code }).toEqual({ args, code: 2 });
        expect(r.stderr).toContain(`EIP-55 checksum mismatch (a typo?): mixed case must read ${ALICE}`);
      }
      expect((await bh("vm", "status", "typo")).code).toBe(1);
      // A config value goes through the same check: a typo in a contract address is a config error.
      writeFileSync(
        etc("web3-defaults.yaml"),
        `blockchain:\n  chain_id: 31337\n  rpc_url: http://127.0.0.1:9\n  nft_contract: "${ALICE_TYPO}"\n`,
      );
      const cfg = await bh("wallet", "balance", ALICE);
      expect(cfg.code).toBe(78);
      expect(cfg.stderr).toContain("blockchain.nft_contract: EIP-55 checksum mismatch");
    } finally {
      Bun.spawnSync(["rm", "-f", etc("web3-defaults.yaml")]);
    }
  });
});

test("vm status says why the power state is unknown when the agent does not answer", async () => {
  const env = provisionRoot({
    backend: "proxmox",
    extraBlockhostYaml: "proxmox: {node: pve, storage: local-lvm, bridge: vmbr0, template_vmid: 9001}",
  });
  try {
    const legacy = join(env.root, "vms.json");
    const vm = { vm_name: "old1", vmid: 300, ip_address: "192.168.122.201", status: "active", owner: "x" };
    writeFileSync(
      legacy,
      JSON.stringify({ vms: { old1: { ...vm, wallet_address: BOB, expires_at: "2030-01-01T00:00:00Z" } } }),
    );
    expect((await runBlockhost(["vm", "import-json", legacy], { root: env.root })).code).toBe(0);
    const r = await runBlockhost(["vm", "status", "old1"], { root: env.root });
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("active, hypervisor: unknown (hypervisor not reachable: root agent not reachable at ");
    const json = JSON.parse((await runBlockhost(["vm", "status", "old1", "--json"], { root: env.root })).stdout);
    expect(json).toMatchObject({ status: "active", power: null, backend: "proxmox" });
    expect(json.power_note).toContain("hypervisor not reachable");
  } finally {
    env.cleanup();
  }
});

describe.skipIf(!Bun.which("script"))("colour", () => {
  /** Run in a pseudo-terminal (util-linux `script`), as an operator at a terminal would. */
  const inPty = async (root: string, env: Record<string, string>, ...args: string[]) => {
    const p = Bun.spawn(["script", "-qec", [blockhostBinary(), ...args].join(" "), "/dev/null"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm", BLOCKHOST_ROOT: root, ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return out;
  };

  test("only on a terminal, and never with NO_COLOR", async () => {
    const { dir, cleanup } = tempDir("blockhost-colour-");
    try {
      const tty = await inPty(dir, {}, "doctor");
      expect(tty).toContain("\x1b[31mFAIL\x1b[0m  config ");
      const noColour = await inPty(dir, { NO_COLOR: "1" }, "doctor");
      expect(noColour).toContain("FAIL  config ");
      expect(noColour).not.toContain("\x1b[");
      const piped = await runBlockhost(["doctor"], { root: dir });
      expect(piped.stdout).toContain("FAIL  config ");
      expect(piped.stdout).not.toContain("\x1b[");
    } finally {
      cleanup();
    }
  });
});
