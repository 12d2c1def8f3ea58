/** The agent under malformed and hostile input: it stays up, and runs nothing outside BlockHost's scope. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_BINARIES } from "../../../src/agent/binaries.ts";
import { ipv6ToBigInt } from "../../../src/core/ipv6.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { tempDir } from "../../helpers/binary.ts";
import { RawPeer } from "../../helpers/raw-socket.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const CASES = 10_000;
const TEMPLATES = [
  { action: "ping", params: {} },
  { action: "qm-start", params: { vmid: 100 } },
  { action: "qm-set", params: { vmid: 101, options: { cores: 2, memory: 2048 } } },
  { action: "qm-destroy", params: { vmid: 150 } },
  { action: "qm-clone", params: { vmid: 9000, newid: 120, name: "vm-1" } },
  { action: "qm-guest-exec", params: { vmid: 150, command: ["/bin/id"] } },
  { action: "ip6-route-add", params: { address: "2001:db8::5/128", dev: "vmbr0" } },
  { action: "ip6-route-del", params: { address: "2001:db8::5/128", dev: "tap150i0" } },
  { action: "ip6-addr-add", params: { address: "2001:db8::1/128", dev: "vmbr0" } },
  { action: "iptables-open", params: { port: 22, proto: "tcp", comment: "knock" } },
  { action: "iptables-deny", params: { port: 22 } },
  { action: "virsh-destroy", params: { name: "blockhost-001" } },
  { action: "virsh-start", params: { name: "blockhost-001" } },
  { action: "cloudinit-write", params: { name: "vm-1", content: "#cloud-config\n" } },
  { action: "config-write", params: { file: "db.yaml", content: "x: 1\n" } },
  { action: "generate-wallet", params: { name: "hot" } },
];
/** Schema-valid values, some BlockHost's (see SCOPE) and some the operator's: the scope, not the schema, must tell. */
const SCOPE_VALUES: Record<string, readonly unknown[]> = {
  vmid: [100, 150, 199, 9000, 200, 999, 9001, 123_456],
  newid: [120, 199, 99, 250, 9000],
  port: [22, 23, 80, 3306, 8006],
  address: ["2001:db8::5/128", "2001:db8::ff/128", "2001:db8:1::5/128", "fd00::1/128"],
  dev: ["vmbr0", "docker0", "virbr0", "tap150i0", "tap500i0"],
  name: ["blockhost-001", "operator-db", "blockhost-002"],
};
const SCOPE = {
  vmids: (id: number) => (id >= 100 && id <= 199) || id === 9000,
  port: 22,
  prefix: "2001:db8::/64",
  bridge: "vmbr0",
  domain: "blockhost-001",
};
const NASTY = [
  "; rm -rf /",
  "$(reboot)",
  "`id`",
  "../../etc/shadow",
  "a\nb",
  "\u0000",
  "9".repeat(400),
  "-1",
  "1e309",
  "{}",
  "[]",
  "null",
  "true",
  "\ud800",
];

function frame(text: string): Uint8Array {
  const out = new Uint8Array(4 + new TextEncoder().encode(text).length);
  out.set(new TextEncoder().encode(text), 4);
  new DataView(out.buffer).setUint32(0, out.length - 4, false);
  return out;
}

function mutate(rand: () => number): Uint8Array {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const kind = rand();
  if (kind < 0.2) {
    // Pure noise, any length up to 96 bytes.
    return Uint8Array.from({ length: Math.floor(rand() * 96) }, () => Math.floor(rand() * 256));
  }
  let text = JSON.stringify(pick(TEMPLATES));
  if (kind < 0.55) {
    // Splice hostile strings and type changes into the JSON text.
    const at = Math.floor(rand() * text.length);
    text =
      text.slice(0, at) +
      JSON.stringify(pick(NASTY)).slice(rand() < 0.5 ? 1 : 0, -1) +
      text.slice(at + Math.floor(rand() * 4));
  } else if (kind < 0.7) {
    text = text.replace(/\d+/, pick(["-5", "0", "99999999999", "1.5", '"100"', "null", "[100]"]));
  } else if (kind < 0.8) {
    text = "[".repeat(2000 + Math.floor(rand() * 3000)) + "]".repeat(10);
  } else {
    // Keep the request valid but point it at an object that may not be BlockHost's.
    const request = JSON.parse(text) as { params: Record<string, unknown> };
    for (const key of Object.keys(request.params))
      if (SCOPE_VALUES[key] && rand() < 0.7) request.params[key] = pick(SCOPE_VALUES[key]!);
    return frame(JSON.stringify(request));
  }
  const out = frame(text);
  const flip = rand();
  const flipBit = (at: number) => {
    out[at] = out[at]! ^ (1 << Math.floor(rand() * 8));
  };
  if (flip < 0.1)
    flipBit(Math.floor(rand() * 4)); // corrupt the length
  else if (flip < 0.2 && out.length > 4) flipBit(4 + Math.floor(rand() * (out.length - 4)));
  else if (flip < 0.25) return out.slice(0, Math.floor(rand() * out.length)); // truncate
  return out;
}

let agent: RunningAgent;
const bin = tempDir("blockhost-fuzz-bin-");
const calls = join(bin.dir, "calls.log");
beforeAll(async () => {
  // Every program the agent could run is a recorder that exits 0: the fuzzer never touches the
  // host, and afterwards every argv the agent ran is checked against the scope.
  const recorder = join(bin.dir, "record");
  writeFileSync(
    recorder,
    `#!/bin/sh\nline="$(basename "$0")"\nfor a in "$@"; do line="$line\t$a"; done\nprintf '%s\\n' "$line" >> '${calls}'\n`,
  );
  chmodSync(recorder, 0o755);
  const binaries: Record<string, string> = {};
  for (const name of Object.keys(DEFAULT_BINARIES)) {
    symlinkSync(recorder, join(bin.dir, name));
    binaries[name] = join(bin.dir, name);
  }
  agent = await startAgent({ binaries });
  writeScopeConfig(agent.root, {
    vmidRange: { start: 100, end: 199 },
    templateVmid: 9000,
    bridge: SCOPE.bridge,
    ipv6Prefix: SCOPE.prefix,
    knockPorts: [SCOPE.port],
  });
  mkdirSync(join(agent.root, "var/lib/libvirt/blockhost/vms", SCOPE.domain), { recursive: true });
});
afterAll(async () => {
  await agent?.stop();
  bin.cleanup();
});

const inPrefix = (address: string) =>
  ipv6ToBigInt(address.split("/")[0]!) >> 64n === ipv6ToBigInt(SCOPE.prefix.split("/")[0]!) >> 64n;

/** Why one recorded command acts outside the scope, or null. */
function outOfScope(line: string): string | null {
  const [binary, ...argv] = line.split("\t") as [string, ...string[]];
  if (binary === "qm") {
    const ids = argv[0] === "guest" ? [argv[2]] : argv[0] === "clone" ? [argv[1], argv[2]] : [argv[1]];
    for (const id of ids) if (!SCOPE.vmids(Number(id))) return `qm on VMID ${id}`;
  }
  if ((binary === "iptables" || binary === "ip6tables") && (argv.includes("-I") || argv.includes("-A"))) {
    const port = argv[argv.indexOf("--dport") + 1];
    if (Number(port) !== SCOPE.port) return `${binary} opening port ${port}`;
  }
  if (binary === "ip" && argv[0] === "-6" && ["route", "addr", "neigh"].includes(argv[1]!)) {
    const address = argv[3] === "proxy" ? argv[4]! : argv[3]!;
    if (!inPrefix(address)) return `ip -6 ${argv[1]} on ${address}`;
    const dev = argv[argv.indexOf("dev") + 1]!;
    const tap = /^tap(\d+)i/.exec(dev);
    if (argv[1] === "route" && (tap ? !SCOPE.vmids(Number(tap[1])) : dev !== SCOPE.bridge)) return `a route to ${dev}`;
  }
  // virsh domstate NAME is the scope probe itself; anything else must name our domain.
  if (binary === "virsh" && !argv.includes("domstate") && !argv.includes(SCOPE.domain))
    return `virsh ${argv.join(" ")}`;
  return null;
}

test(`${CASES} random and mutated frames leave the daemon answering ping and run nothing outside its scope`, async () => {
  const rand = prng(SEED);
  let sent = 0;
  let replies = 0;
  const worker = async () => {
    while (sent < CASES) {
      const batch: Uint8Array[] = [];
      for (let i = 0; i < 8 && sent < CASES; i++, sent++) batch.push(mutate(rand));
      const peer = await RawPeer.connect(agent.socket);
      peer.write(Buffer.concat(batch));
      peer.end();
      // Commands are recorders that take a few ms each: wait long enough that a loaded machine loses no reply.
      while ((await peer.next(15_000)) !== undefined) replies++;
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, worker));
  } catch (e) {
    throw new Error(
      `${e} (agent exit: ${agent.proc.exitCode}; last log: ${JSON.stringify(agent.logLines().slice(-3))})`,
    );
  }
  expect(sent).toBe(CASES);
  // Nothing outside the scope ran, some in-scope requests did, and every refusal was audited.
  const ran = existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [];
  console.log(`fuzz seed ${SEED}: ${replies} replies, ${ran.length} commands run`);
  expect(ran.map(outOfScope).filter((why) => why !== null)).toEqual([]);
  expect(replies).toBeGreaterThan(CASES / 4);
  expect(agent.proc.exitCode).toBeNull();
  expect((await agent.client.ping()).output).toBe("pong");
  const internal = agent.logLines().filter((l) => l.event === "agent.internal_error");
  expect(internal).toEqual([]);
  const acted = (binary: string) => ran.filter((l) => l.startsWith(`${binary}\t`)).length;
  for (const binary of ["qm", "iptables", "ip", "virsh"])
    expect({ binary, ran: acted(binary) > 0 }).toEqual({ binary, ran: true });
  const refusals = agent.logLines().filter((l) => l.event === "agent.out_of_scope");
  const refusedRequests = agent
    .logLines()
    .filter((l) => l.event === "agent.request" && l.outcome === "E_AGENT_OUT_OF_SCOPE");
  expect(refusals.length).toBeGreaterThan(50);
  expect(refusals.length).toBe(refusedRequests.length);
  expect(new Set(refusals.map((l) => l.kind))).toEqual(new Set(["vmid", "port", "route", "address", "domain"]));
}, 300_000);
