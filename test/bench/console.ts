/**
 * Serial console echo latency: a keystroke sent until its echo comes back, through the whole path a
 * customer uses (WebSocket over TLS to `blockhost serve`, the agent's relay, the VM's serial socket),
 * beside two baselines measured in the same run: the agent's relay socket alone, and the serial
 * socket itself. The "VM" is the qm simulator's serial0 (a fake getty that echoes like a tty does).
 */
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { chromiumUnavailable, launchChromium, walletPage } from "../helpers/browser.ts";
import { EngineEnv, OWNER } from "../helpers/engine-env.ts";
import { anvilProxmoxUnavailable, startProxmoxHost } from "../helpers/proxmox-host.ts";
import { startServe, writeHttpsConfig } from "../helpers/serve.ts";
import type { BenchRow } from "./agent.ts";

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Send one byte `rounds` times, each after the previous echo arrived: round-trip times in ms. */
async function echoTimes(send: (b: string) => void, next: () => Promise<void>, rounds: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds + 20; i++) {
    const t = performance.now();
    const got = next();
    send("x");
    await got;
    if (i >= 20) times.push(performance.now() - t); // the first 20 warm up
  }
  return times;
}

/** The next chunk of bytes a stream delivers, as a promise factory. */
function nextChunk(on: (listener: () => void) => void): () => Promise<void> {
  let waiter: (() => void) | null = null;
  on(() => {
    const w = waiter;
    waiter = null;
    w?.();
  });
  return () => new Promise<void>((resolve) => (waiter = resolve));
}

function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

const rows = (label: string, times: number[]): BenchRow[] => [
  { name: `console echo ${label} p50`, value: pct(times, 50).toFixed(2), unit: "ms" },
  { name: `console echo ${label} p99`, value: pct(times, 99).toFixed(2), unit: "ms" },
];

export async function benchConsoleEcho(rounds = 300): Promise<BenchRow[]> {
  const why = anvilProxmoxUnavailable() ?? chromiumUnavailable();
  if (why) return [{ name: `console echo (skipped: ${why})`, value: "-", unit: "-" }];
  const env = await EngineEnv.create({ backend: "proxmox", ipv6Prefix: "2001:db8:79::/120" });
  const host = await startProxmoxHost(env.root);
  host.sim.setRunDir(join(env.root, "var/run/qemu-server"));
  await env.mintTo(OWNER);
  await writeHttpsConfig(env.root);
  const engine = env.startEngine();
  const serve = await startServe(env.root);
  const browser = await launchChromium();
  try {
    const bought = await env.buy(1);
    const vm = await env.servedVm(bought.subscriptionId, "the bought server has its NFT");
    // Sign in once in Chromium; the measuring client then uses the session's cookie and CSRF token.
    const wp = await walletPage(browser, {
      privateKey: env.anvil.accounts[1]!.privateKey,
      rpcUrl: env.anvil.rpcUrl,
      chainId: env.anvil.chainId,
    });
    await wp.page.goto(`${serve.origin}/my`);
    await wp.page.click("#btn-panel-signin");
    await wp.page.waitForSelector("#panel-wallet", { timeout: 30_000 });
    const cookie = (await wp.page.context().cookies(serve.origin)).map((c) => `${c.name}=${c.value}`).join("; ");
    const csrf = await wp.page.evaluate(
      () => (JSON.parse(document.getElementById("page-data")?.dataset.json ?? "{}") as { csrf: string }).csrf,
    );
    await wp.close();

    // 1. The customer's path: WebSocket over TLS → serve → agent relay → serial0.
    const ws = new WebSocket(`${serve.origin.replace("https", "wss")}/my/servers/${vm.vm_name}/console?csrf=${csrf}`, {
      headers: { cookie, origin: serve.origin },
      tls: { rejectUnauthorized: false },
    } as never);
    ws.binaryType = "arraybuffer";
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onclose = (e) => reject(new Error(`console refused: ${e.code} ${e.reason}`));
    });
    const wsNext = nextChunk((l) => ws.addEventListener("message", l));
    const viaServe = await echoTimes((b) => ws.send(b), wsNext, rounds);
    ws.close();

    // 2. Baseline: the agent's relay socket alone (no TLS, no WebSocket, no serve).
    const { socket } = await host.agent.client.call("qm-console-open", { vmid: vm.vmid, idle_seconds: 60 });
    const relay = await connectSocket(socket);
    const viaRelay = await echoTimes(
      (b) => relay.write(b),
      nextChunk((l) => relay.on("data", l)),
      rounds,
    );
    relay.end();

    // 3. Baseline: the serial socket itself (what `qm terminal` connects to).
    // The relay session must be gone first: the serial socket serves one client at a time.
    await new Promise<void>((resolve) => relay.once("close", () => resolve()));
    const serial = await connectSocket(join(env.root, "var/run/qemu-server", `${vm.vmid}.serial0`));
    const serialNext = nextChunk((l) => serial.on("data", l));
    const direct = await echoTimes((b) => serial.write(b), serialNext, rounds);
    serial.end();

    return [
      ...rows("through serve (WebSocket over TLS)", viaServe),
      ...rows("baseline: agent relay socket alone", viaRelay),
      ...rows("baseline: serial socket alone", direct),
    ];
  } finally {
    await browser.close();
    await serve.stop();
    await engine.stop();
    await host.stop();
    await env.stop();
  }
}
