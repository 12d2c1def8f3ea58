/** The agent server: socket, peers, limits, timeouts. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeFrame } from "../../../src/agent/protocol.ts";
import { startAgent, type RunningAgent } from "../../helpers/agent.ts";
import { eventually } from "../../helpers/engine-env.ts";
import { writeScopeConfig } from "../../helpers/scope-config.ts";
import { blockhostBinary, runCommand, tempDir } from "../../helpers/binary.ts";
import { RawPeer } from "../../helpers/raw-socket.ts";
import { ensureServiceAccount } from "../../helpers/service-account.ts";

const header = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
};

let service: { uid: number; gid: number };
let agent: RunningAgent;

beforeAll(async () => {
  service = ensureServiceAccount();
  agent = await startAgent();
});
afterAll(async () => {
  await agent?.stop();
});

describe("socket", () => {
  test("is created 0660, owned by root and group blockhost", () => {
    const st = statSync(agent.socket);
    expect(st.isSocket()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe("660");
    expect(st.uid).toBe(0);
    expect(st.gid).toBe(service.gid);
  });
});

describe("protocol over the wire", () => {
  test("several requests on one connection are answered in order", async () => {
    const peer = await RawPeer.connect(agent.socket);
    peer.write(
      Buffer.concat([
        encodeFrame({ action: "ping", params: {} }),
        encodeFrame({ action: "nope", params: {} }),
        encodeFrame({ action: "ping" }),
      ]),
    );
    expect(await peer.next()).toEqual({ ok: true, output: "pong" });
    expect(await peer.next()).toMatchObject({ ok: false, code: "E_AGENT_UNKNOWN_ACTION" });
    expect(await peer.next()).toEqual({ ok: true, output: "pong" });
    peer.end();
  });

  test("a zero-length frame gets an error and the connection stays usable", async () => {
    const peer = await RawPeer.connect(agent.socket);
    peer.write(header(0));
    expect(await peer.next()).toMatchObject({ ok: false, code: "E_AGENT_PROTOCOL", error: "empty frame" });
    peer.write(encodeFrame({ action: "ping", params: {} }));
    expect(await peer.next()).toEqual({ ok: true, output: "pong" });
    peer.end();
  });

  test("bad JSON, extra request keys and wrong params each get a clear error", async () => {
    const peer = await RawPeer.connect(agent.socket);
    const body = new TextEncoder().encode("{not json");
    peer.write(Buffer.concat([header(body.length), body]));
    expect(await peer.next()).toMatchObject({
      ok: false,
      code: "E_AGENT_PROTOCOL",
      error: "request is not valid UTF-8 JSON",
    });
    peer.write(encodeFrame({ action: "ping", params: {}, uid: 0 }));
    expect(await peer.next()).toMatchObject({ ok: false, code: "E_AGENT_PROTOCOL" });
    peer.write(encodeFrame({ action: "ping", params: { extra: 1 } }));
    expect(await peer.next()).toMatchObject({
      ok: false,
      code: "E_AGENT_INVALID_PARAMS",
      error: "params.extra: unknown key (allowed: none)",
    });
    peer.end();
  });

  test("an oversized length closes the connection", async () => {
    const peer = await RawPeer.connect(agent.socket);
    peer.write(header(0xffffffff));
    const reply = await peer.next();
    expect(reply).toMatchObject({ ok: false, code: "E_AGENT_PROTOCOL" });
    expect(await peer.waitClosed()).toBe(true);
    expect((await agent.client.ping()).output).toBe("pong");
  });

  test("a truncated frame is closed after the 10 s read timeout", async () => {
    const peer = await RawPeer.connect(agent.socket);
    peer.write(Buffer.concat([header(100), new TextEncoder().encode('{"action":')]));
    const reply = await peer.next(20_000);
    expect(reply).toMatchObject({ ok: false, code: "E_TIMEOUT", error: "truncated frame: read timed out" });
    expect(await peer.waitClosed()).toBe(true);
  }, 30_000);

  test("the 65th concurrent connection is refused with E_AGENT_BUSY", async () => {
    const peers: RawPeer[] = [];
    for (let i = 0; i < 64; i++) {
      const p = await RawPeer.connect(agent.socket);
      p.write(encodeFrame({ action: "ping" }));
      expect(await p.next()).toEqual({ ok: true, output: "pong" });
      peers.push(p);
    }
    const extra = await RawPeer.connect(agent.socket);
    expect(await extra.next()).toMatchObject({ ok: false, code: "E_AGENT_BUSY" });
    expect(await extra.waitClosed()).toBe(true);
    for (const p of peers) p.end();
    for (const p of peers) await p.waitClosed();
    expect((await agent.client.ping()).output).toBe("pong");
  });

  test("every request leaves one audit line with uid, action, outcome and duration, and no params", async () => {
    const before = agent.logLines().length;
    await agent.client.call("ping", {});
    const line = await eventually(
      () =>
        agent
          .logLines()
          .slice(before)
          .findLast((l) => l.event === "agent.request" && l.action === "ping"),
      "the ping's audit line",
    );
    expect(line).toMatchObject({ uid: 0, action: "ping", outcome: "ok" });
    expect(typeof line.duration_ms).toBe("number");
    expect(line).not.toHaveProperty("params");
  });
});

describe("peer identity from SO_PEERCRED", () => {
  const asUser = (uid: number, gid: number, socket: string, binary: string) =>
    runCommand(
      [
        "setpriv",
        `--reuid=${uid}`,
        `--regid=${gid}`,
        "--clear-groups",
        binary,
        "agent",
        "call",
        "ping",
        "--socket",
        socket,
      ],
      { env: { PATH: "/usr/bin:/bin" } },
    );

  test("an unprivileged uid is refused with E_AGENT_DENIED and an audit line; the blockhost user is served", async () => {
    // Open the file permissions so that only the agent's own peer check stands in the way.
    const tmp = tempDir();
    try {
      chmodSync(tmp.dir, 0o755);
      const binary = join(tmp.dir, "blockhost");
      copyFileSync(blockhostBinary(), binary);
      chmodSync(binary, 0o755);
      for (const dir of [agent.root, join(agent.root, "run"), join(agent.root, "run/blockhost")]) chmodSync(dir, 0o755);
      chmodSync(agent.socket, 0o666);

      const nobody = await asUser(65534, 65534, agent.socket, binary);
      expect(nobody.code).toBe(1);
      expect(nobody.stderr).toContain("uid 65534 may not use the root agent");
      await eventually(
        () =>
          agent.logLines().some((l) => l.event === "agent.refused" && l.uid === 65534 && l.code === "E_AGENT_DENIED"),
        "the refusal's audit line for uid 65534",
      );

      const served = await asUser(service.uid, service.gid, agent.socket, binary);
      expect(served.code).toBe(0);
      expect(JSON.parse(served.stdout)).toEqual({ ok: true, output: "pong" });
    } finally {
      chmodSync(agent.socket, 0o660);
      tmp.cleanup();
    }
  });
});

describe("lifecycle", () => {
  test("SIGTERM lets an in-flight action finish, removes the socket and exits 0", async () => {
    const tmp = tempDir();
    const slowQm = join(tmp.dir, "slow-qm");
    const started = join(tmp.dir, "qm-started");
    writeFileSync(slowQm, `#!/bin/sh\n: > ${started}\nsleep 1\necho started\n`);
    chmodSync(slowQm, 0o755);
    const slow = await startAgent({ binaries: { qm: slowQm } });
    writeScopeConfig(slow.root);
    try {
      const pending = slow.client.call("qm-start", { vmid: 100 });
      await eventually(() => existsSync(started), "qm running for the in-flight action");
      slow.proc.kill("SIGTERM");
      const reply = await pending;
      expect(reply.ok).toBe(true);
      expect(await slow.proc.exited).toBe(0);
      expect(existsSync(slow.socket)).toBe(false);
    } finally {
      await slow.stop();
      tmp.cleanup();
    }
  });

  test("accepts a listening socket handed over by systemd (LISTEN_FDS)", async () => {
    const tmp = tempDir();
    const socket = join(tmp.dir, "activated.sock");
    const proc = Bun.spawn(["systemd-socket-activate", "-l", socket, blockhostBinary(), "agent"], {
      cwd: "/",
      env: { PATH: "/usr/bin:/bin", BLOCKHOST_ROOT: tmp.dir },
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      const { AgentClient } = await import("../../../src/agent/client.ts");
      const client = new AgentClient({ socketPath: socket, timeoutMs: 10_000 });
      let reply: { output: string } | undefined;
      for (let i = 0; i < 100 && !reply; i++) {
        try {
          reply = await client.ping();
        } catch {
          await Bun.sleep(50);
        }
      }
      expect(reply?.output).toBe("pong");
      expect(existsSync(join(tmp.dir, "run/blockhost/root-agent.sock"))).toBe(false);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      tmp.cleanup();
    }
  });

  test("refuses an agent.yaml that is group- or world-writable (exit 78)", async () => {
    const tmp = tempDir();
    try {
      const { mkdirSync } = await import("node:fs");
      mkdirSync(join(tmp.dir, "etc/blockhost"), { recursive: true });
      const file = join(tmp.dir, "etc/blockhost/agent.yaml");
      writeFileSync(file, "binaries:\n  qm: /tmp/evil\n");
      chmodSync(file, 0o666);
      const proc = Bun.spawn([blockhostBinary(), "agent"], {
        cwd: "/",
        env: { BLOCKHOST_ROOT: tmp.dir },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await proc.exited).toBe(78);
      expect(await new Response(proc.stderr).text()).toContain("must not be group- or world-writable");
    } finally {
      tmp.cleanup();
    }
  });
});
