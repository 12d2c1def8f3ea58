// Admin commands end to end: `blockhost admin send` on anvil → engine → agent → real iptables rules in a test namespace.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, type Hex } from "viem";
import { publicKeyOf } from "../../../src/crypto/keys.ts";
import { buildAdminCommand, encryptAdminCommand } from "../../../src/engine/admin-commands/payload.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { runBlockhost } from "../../helpers/binary.ts";
import { EngineEnv, eventually, type EngineProcess } from "../../helpers/engine-env.ts";
import { createTestNetns, netnsUnavailable, type TestNetns } from "../../helpers/netns.ts";

setDefaultTimeout(90_000);

const ADMIN = 5,
  STRANGER = 6;
const COMMAND = "open-sesame";
const skip = netnsUnavailable() ?? (anvilAvailable() ? undefined : "anvil not available");
if (skip) console.log(`skipping admin command tests: ${skip}`);

describe.skipIf(!!skip)("admin commands and knocks (anvil, engine, agent, iptables in a namespace)", () => {
  let ns: TestNetns;
  let env: EngineEnv;
  let agent: RunningAgent;
  let engine: EngineProcess;
  let keyFile: string;
  const rules = () => ns.exec("/usr/sbin/iptables", "-S", "INPUT");
  const knockRules = () =>
    rules()
      .split("\n")
      .filter((l) => l.includes("blockhost-knock"));
  const adminAddress = () => env.anvil.accounts[ADMIN]!.address;
  const send = async (params: Record<string, unknown>) => {
    const r = await runBlockhost(
      ["admin", "send", COMMAND, "--params", JSON.stringify(params), "--key-file", keyFile],
      { root: env.root },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return r.stdout.trim() as Hex;
  };
  const rawSend = async (from: number, data: Hex, to: Hex = adminAddress()) => {
    const w = env.net.wallets[from]!;
    const hash = await w.sendTransaction({ account: w.account!, chain: w.chain, to, value: 0n, data });
    await env.net.pub.waitForTransactionReceipt({ hash });
    return hash;
  };
  const ignoredFor = (tx: Hex) =>
    engine
      .events()
      .filter((e) => e.event === "admin.command_ignored" && e.tx === tx)
      .map((e) => e.reason);

  beforeAll(async () => {
    ns = createTestNetns();
    env = await EngineEnv.create();
    agent = await startAgent({ root: env.root, binaries: ns.binaries as Record<string, string> });
    const etc = join(env.root, "etc/blockhost");
    appendFileSync(
      join(etc, "web3-defaults.yaml"),
      `server: {public_key: '${bytesToHex(publicKeyOf(env.serverKey))}'}\n`,
    );
    appendFileSync(
      join(etc, "blockhost.yaml"),
      `admin: {wallet_address: '${adminAddress()}', destination_mode: self, max_command_age: 300, default_deny: true}\n`,
    );
    writeFileSync(
      join(etc, "admin-commands.json"),
      JSON.stringify({
        commands: { [COMMAND]: { action: "knock", params: { allowed_ports: [22, 2222], default_duration: 300 } } },
      }),
    );
    mkdirSync(join(env.root, "var/log"), { recursive: true });
    writeFileSync(
      join(env.root, "var/log/auth.log"),
      "Dec  1 10:00:00 host sshd[1]: Accepted publickey for root from 192.0.2.99 port 4000 ssh2: ED25519\n",
    );
    keyFile = join(env.root, "admin.key");
    writeFileSync(keyFile, env.anvil.accounts[ADMIN]!.privateKey.slice(2), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    engine = env.startEngine();
    await eventually(() => engine.events().some((e) => e.event === "admin.enabled"), "admin commands enabled");
  });
  afterAll(async () => {
    await engine?.stop();
    await agent?.stop();
    await env?.stop();
    ns?.cleanup();
  });

  test("default_deny: a DROP for new connections to each allowed port, after which knock rules are inserted first", async () => {
    await eventually(() => rules().includes("--dport 2222") && rules().includes("blockhost-deny"), "deny rules");
    const deny = rules()
      .split("\n")
      .filter((l) => l.includes("blockhost-deny"));
    expect(deny).toHaveLength(2);
    for (const l of deny)
      expect(l).toMatch(
        /-p tcp -m tcp --dport (22|2222) -m conntrack --ctstate NEW -m comment --comment blockhost-deny -j DROP/,
      );
  });

  test("a knock opens the port, before the deny rule, and closes it at the deadline", async () => {
    const tx = await send({ ports: [2222], duration: 3 });
    await eventually(() => knockRules().length === 1, "knock rule open");
    const lines = rules().split("\n");
    expect(knockRules()).toEqual([
      "-A INPUT -p tcp -m tcp --dport 2222 -m comment --comment blockhost-knock -j ACCEPT",
    ]);
    expect(lines.findIndex((l) => l.includes("blockhost-knock"))).toBeLessThan(
      lines.findIndex((l) => l.includes("blockhost-deny")),
    );
    await eventually(() => knockRules().length === 0, "knock rule closed at its deadline");
    // The rule goes first, the log line right after it.
    const closed = await eventually(
      () => engine.events().find((e) => e.event === "admin.knock_closed" && e.tx === tx),
      "knock_closed logged",
    );
    expect(closed).toMatchObject({ why: "deadline", rules: ["tcp/2222"] });
  });

  test("an SSH login narrows the knock to the address that logged in (earlier log lines are not taken)", async () => {
    const tx = await send({ ports: [22], duration: 120 });
    await eventually(() => knockRules().some((l) => l.includes("--dport 22 ")), "broad ssh rule");
    appendFileSync(
      join(env.root, "var/log/auth.log"),
      "Dec  1 10:05:00 host sshd[2]: Accepted publickey for root from 198.51.100.23 port 51234 ssh2: ED25519 SHA256:x\n",
    );
    await eventually(
      () => knockRules().length === 1 && knockRules()[0]!.includes("-s 198.51.100.23/32"),
      "narrowed rule",
    );
    expect(knockRules()).toEqual([
      "-A INPUT -s 198.51.100.23/32 -p tcp -m tcp --dport 22 -m comment --comment blockhost-knock -j ACCEPT",
    ]);
    expect(
      await eventually(
        () => engine.events().find((e) => e.event === "admin.knock_narrowed" && e.tx === tx),
        "narrowed logged",
      ),
    ).toMatchObject({ source: "198.51.100.23" });
  });

  test("replayed, expired, future-dated, wrong-sender and undecryptable commands are ignored, one log line each", async () => {
    const pub = publicKeyOf(env.serverKey);
    const now = Math.floor(Date.now() / 1000);
    const once = encryptAdminCommand(
      pub,
      buildAdminCommand({ command: COMMAND, params: { ports: [2222], duration: 1 } }),
    );
    const first = await rawSend(ADMIN, once);
    const replay = await rawSend(ADMIN, once);
    const expired = await rawSend(
      ADMIN,
      encryptAdminCommand(pub, buildAdminCommand({ command: COMMAND, timestamp: now - 1000 })),
    );
    const future = await rawSend(
      ADMIN,
      encryptAdminCommand(pub, buildAdminCommand({ command: COMMAND, timestamp: now + 600 })),
    );
    const stranger = await rawSend(STRANGER, encryptAdminCommand(pub, buildAdminCommand({ command: COMMAND })));
    const garbage = await rawSend(ADMIN, bytesToHex(crypto.getRandomValues(new Uint8Array(120))));
    const unknown = await rawSend(ADMIN, encryptAdminCommand(pub, buildAdminCommand({ command: "not-a-command" })));
    await eventually(() => ignoredFor(unknown).length > 0, "the last transaction processed");
    expect(ignoredFor(first)).toEqual([]);
    await eventually(
      () => engine.events().some((e) => e.event === "admin.command_run" && e.tx === first),
      "first command run",
    );
    expect(ignoredFor(replay)).toEqual(["replayed"]);
    expect(ignoredFor(expired)).toEqual(["expired"]);
    expect(ignoredFor(future)).toEqual(["future"]);
    expect(ignoredFor(stranger)).toEqual(["wrong_sender"]);
    expect(ignoredFor(garbage)).toEqual(["undecryptable"]);
    expect(ignoredFor(unknown)).toEqual(["unknown_command"]);
    // The secret command name never reaches the log.
    expect(engine.log).not.toContain(COMMAND);
  });

  test("engine SIGKILLed while a knock is open: the restarted engine keeps the rule until its deadline, then closes it", async () => {
    await eventually(() => !knockRules().some((l) => l.includes("2222")), "earlier 2222 knock closed");
    const sentAt = Math.floor(Date.now() / 1000);
    const tx = await send({ ports: [2222], duration: 8 });
    await eventually(() => knockRules().some((l) => l.includes("--dport 2222")), "knock open");
    await engine.stop("SIGKILL");
    expect(knockRules().some((l) => l.includes("--dport 2222"))).toBe(true);
    // Restarted with its clock held before the deadline (BLOCKHOST_NOW), however slow this machine is:
    // recovery and the deadline checks of later polls must keep the rule.
    engine = env.startEngine([], { BLOCKHOST_NOW: String(sentAt) });
    await eventually(() => engine.events().some((e) => e.event === "engine.started"), "restarted");
    // Two polls that certainly ran after recovery: each scans a transaction mined after the previous one was seen.
    for (const round of [1, 2]) {
      const marker = await rawSend(ADMIN, bytesToHex(crypto.getRandomValues(new Uint8Array(120))));
      await eventually(() => ignoredFor(marker).length > 0, `poll ${round} after the restart`);
    }
    expect(knockRules().some((l) => l.includes("--dport 2222"))).toBe(true);
    expect(engine.events().some((e) => e.event === "admin.knock_closed" && e.tx === tx)).toBe(false);
    // With the real clock the deadline has passed (or soon will): the rule goes.
    await engine.stop("SIGKILL");
    engine = env.startEngine();
    await eventually(
      () => !knockRules().some((l) => l.includes("--dport 2222")),
      "closed at the deadline after the restart",
    );
    expect(
      await eventually(
        () => engine.events().find((e) => e.event === "admin.knock_closed" && e.tx === tx),
        "knock_closed logged",
      ),
    ).toMatchObject({ why: expect.stringMatching(/^deadline/) });
  });
});
