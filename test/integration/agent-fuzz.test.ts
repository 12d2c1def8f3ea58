/** The agent under malformed and hostile input. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DEFAULT_BINARIES } from "../../src/agent/binaries.ts";
import { startAgent, type RunningAgent } from "../helpers/agent.ts";
import { RawPeer } from "../helpers/raw-socket.ts";

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
  { action: "ip6-route-add", params: { address: "2001:db8::5/128", dev: "vmbr0" } },
  { action: "iptables-open", params: { port: 22, proto: "tcp", comment: "knock" } },
  { action: "cloudinit-write", params: { name: "vm-1", content: "#cloud-config\n" } },
  { action: "config-write", params: { file: "db.yaml", content: "x: 1\n" } },
  { action: "generate-wallet", params: { name: "hot" } },
];
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
  }
  const out = new Uint8Array(4 + new TextEncoder().encode(text).length);
  out.set(new TextEncoder().encode(text), 4);
  new DataView(out.buffer).setUint32(0, out.length - 4, false);
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
beforeAll(async () => {
  // Every program the agent could run is /bin/true: the fuzzer must never touch the host.
  agent = await startAgent({
    binaries: Object.fromEntries(Object.keys(DEFAULT_BINARIES).map((k) => [k, "/bin/true"])),
  });
});
afterAll(async () => {
  await agent?.stop();
});

test(`${CASES} random and mutated frames leave the daemon answering ping`, async () => {
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
      while ((await peer.next(3_000)) !== undefined) replies++;
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
  expect(replies).toBeGreaterThan(CASES / 4);
  expect(agent.proc.exitCode).toBeNull();
  expect((await agent.client.ping()).output).toBe("pong");
  const internal = agent.logLines().filter((l) => l.event === "agent.internal_error");
  expect(internal).toEqual([]);
}, 300_000);
