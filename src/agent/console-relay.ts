/**
 * The agent's serial console relay. Opening a console gives the caller a fresh Unix socket in a
 * root-owned directory (0711), mode 0600 and owned by the caller's uid, that accepts ONE connection
 * from that uid; its bytes go to the VM's serial port and back, nothing else. The service never
 * gets the pty or the hypervisor's socket itself, so it cannot reach another VM's console or a host
 * shell. One session per VM: a newer one takes over (the older client gets a notice and is closed).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { paths } from "../core/paths.ts";
import type { PeerCredentials } from "./actions/types.ts";
import { peerCredentials } from "./peercred.ts";

/** Longest idle time a caller may ask for (no byte from the client in that long ends the session). */
export const CONSOLE_IDLE_MAX_S = 3600;
/** The caller must connect to its socket this soon after opening. */
export const CONSOLE_ACCEPT_MS = 10_000;
/** Console sessions the agent relays at once, over all VMs. */
export const MAX_CONSOLE_SESSIONS = 32;

const notice = (text: string) => `\r\n[blockhost] ${text}\r\n`;
const TAKEN_OVER = notice("the console was opened in another session; this one is closed.");

export interface ConsoleOpen {
  /** One session per key: `domain:<name>` or `vmid:<n>`. */
  readonly key: string;
  /** Who asked (SO_PEERCRED of the agent connection): only this uid may connect to the session socket. */
  readonly peer: PeerCredentials;
  readonly idleSeconds: number;
  /** The VM's serial port, already open. */
  readonly target: Socket;
}

interface Session {
  readonly key: string;
  readonly path: string;
  end(reason: string, text?: string): void;
}

const sessions = new Map<string, Session>();

function sessionDir(): string {
  const dir = paths.consoleDir;
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? 0))
    throw new BlockhostError("E_IO", `${dir} is not a directory owned by the agent; refusing to use it`);
  chmodSync(dir, 0o711);
  return dir;
}

/** Bind with a umask that makes the socket 0600 from its first instant (no window where others can connect). */
async function listenPrivate(server: Server, path: string, uid: number): Promise<void> {
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  if (process.getuid?.() === 0) chownSync(path, uid, -1);
}

/** Start a relay session; resolves with the socket path the caller connects to. */
export async function openConsoleSession(o: ConsoleOpen): Promise<{ socket: string; took_over: boolean }> {
  const previous = sessions.get(o.key);
  if (!previous && sessions.size >= MAX_CONSOLE_SESSIONS) {
    o.target.destroy();
    throw new BlockhostError("E_AGENT_BUSY", `too many console sessions open (limit ${MAX_CONSOLE_SESSIONS})`);
  }
  previous?.end("taken-over", TAKEN_OVER);
  const path = join(sessionDir(), `${randomBytes(16).toString("hex")}.sock`);
  const server = createServer();
  const opened = Date.now();
  let client: Socket | undefined;
  let bytesIn = 0;
  let bytesOut = 0;
  let ended = false;
  let idle: ReturnType<typeof setTimeout> | undefined;

  const unlink = () => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  const session: Session = {
    key: o.key,
    path,
    end(reason, text) {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      clearTimeout(accept);
      if (sessions.get(o.key) === session) sessions.delete(o.key);
      server.close();
      unlink();
      o.target.destroy();
      if (client) text ? client.end(text) : client.end();
      logEvent("agent.console", {
        target: o.key,
        uid: o.peer.uid,
        pid: o.peer.pid,
        reason,
        duration_s: Math.round((Date.now() - opened) / 100) / 10,
        bytes_in: bytesIn,
        bytes_out: bytesOut,
      });
    },
  };
  const accept = setTimeout(() => session.end("not-connected"), CONSOLE_ACCEPT_MS);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => session.end("idle", notice(`console closed after ${o.idleSeconds} s without input.`)),
      o.idleSeconds * 1000,
    );
  };

  server.on("connection", (socket: Socket) => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const peer = fd === undefined ? undefined : peerCredentials(fd);
    if (client || ended || !peer || (peer.uid !== o.peer.uid && peer.uid !== 0)) {
      logEvent("agent.console_refused", { target: o.key, uid: peer?.uid ?? -1, pid: peer?.pid ?? -1 });
      socket.destroy();
      return;
    }
    client = socket;
    clearTimeout(accept);
    server.close();
    unlink();
    touch();
    socket.on("data", (chunk: Buffer) => {
      bytesIn += chunk.length;
      touch();
    });
    o.target.on("data", (chunk: Buffer) => {
      bytesOut += chunk.length;
    });
    socket.pipe(o.target, { end: false });
    o.target.pipe(socket, { end: false });
    socket.on("close", () => session.end("client-closed"));
    socket.on("error", () => session.end("client-error"));
  });
  o.target.on("close", () => session.end("vm-closed", notice("the server's serial port closed (powered off?).")));
  o.target.on("error", () => session.end("vm-closed", notice("the server's serial port closed (powered off?).")));

  try {
    await listenPrivate(server, path, o.peer.uid);
  } catch (e) {
    session.end("listen-failed");
    throw new BlockhostError("E_IO", `cannot create the console socket: ${(e as Error).message}`);
  }
  sessions.set(o.key, session);
  return { socket: path, took_over: previous !== undefined };
}
