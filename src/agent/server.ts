/** The root agent server: the socket, framing, limits and dispatch to actions. */
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import { BlockhostError, type ErrorCode, isBlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { isSchemaError } from "../core/schema.ts";
import type { ActionContext, ActionDef, PeerCredentials } from "./actions/types.ts";
import { encodeFrame, FrameDecoder, isFrameError, isFatalFrameError, parseRequest } from "./protocol.ts";
import { isAllowedPeer, peerCredentials } from "./peercred.ts";
import { auditOutOfScope, enforceScope, isOutOfScope } from "./scope.ts";
import { scopeProbe } from "./scope-probe.ts";
import { setupIsComplete } from "./setup-state.ts";

export const READ_TIMEOUT_SECONDS = 10;
export const MAX_CONNECTIONS = 64;
const REFUSED_LINGER_SECONDS = 2;

export interface AgentServerOptions {
  /** The action table (normally ACTIONS). */
  readonly actions: ReadonlyMap<string, ActionDef>;
  /** Builds the per-request context (the command runner) for a peer and an abort signal. */
  readonly context: (peer: PeerCredentials, signal: AbortSignal) => ActionContext;
  /** Who may use the agent; default: root and the blockhost service user/group. */
  readonly allow?: (peer: PeerCredentials) => boolean;
}

interface Connection {
  readonly peer: PeerCredentials;
  readonly decoder: FrameDecoder;
  /** Requests on one connection are answered in order, one at a time. */
  queue: Promise<void>;
  busy: number;
  closed: boolean;
}

type AgentSocket = Socket<Connection>;
type Response = Record<string, unknown> & { ok: boolean };

const failure = (code: ErrorCode, error: string): Response => ({ ok: false, error, code });

/**
 * The root agent: a closed table of actions behind a Unix socket. Every connection is
 * identified by SO_PEERCRED at accept; every request gets one audit line.
 */
export class AgentServer {
  private listener?: UnixSocketListener<Connection> | TCPSocketListener<Connection>;
  private readonly sockets = new Set<AgentSocket>();
  private readonly refused = new Set<AgentSocket>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private stopping = false;

  constructor(private readonly options: AgentServerOptions) {}

  /** Listen on a path (the caller has prepared it) or adopt an inherited listening fd. */
  listen(target: { unix: string } | { fd: number }): void {
    const handlers = {
      open: (s: AgentSocket) => this.onOpen(s),
      data: (s: AgentSocket, chunk: Buffer) => this.onData(s, chunk),
      end: (s: AgentSocket) => this.onEnd(s),
      close: (s: AgentSocket) => this.onClose(s),
      error: (s: AgentSocket) => this.onClose(s),
      timeout: (s: AgentSocket) => this.onTimeout(s),
    };
    this.listener =
      "unix" in target
        ? Bun.listen<Connection>({ unix: target.unix, socket: handlers })
        : Bun.listen<Connection>({ fd: target.fd, socket: handlers } as unknown as Parameters<
            typeof Bun.listen<Connection>
          >[0]);
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Stop accepting, let in-flight requests finish, then close every connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.listener?.stop(false);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    for (const s of [...this.sockets, ...this.refused]) s.end();
    this.shutdown.abort();
  }

  private onOpen(socket: AgentSocket): void {
    const peer = peerCredentials((socket as unknown as { fd: number }).fd) ?? { pid: -1, uid: -1, gid: -1 };
    const allowed = (this.options.allow ?? isAllowedPeer)(peer);
    if (!allowed || this.stopping || this.sockets.size >= MAX_CONNECTIONS) {
      const [code, error]: [ErrorCode, string] = !allowed
        ? ["E_AGENT_DENIED", `uid ${peer.uid} may not use the root agent`]
        : this.stopping
          ? ["E_AGENT_UNAVAILABLE", "agent is shutting down"]
          : ["E_AGENT_BUSY", `too many connections (limit ${MAX_CONNECTIONS})`];
      logEvent("agent.refused", { uid: peer.uid, gid: peer.gid, pid: peer.pid, code });
      socket.data = { peer, decoder: new FrameDecoder(), queue: Promise.resolve(), busy: 0, closed: true };
      socket.write(encodeFrame(failure(code, error)));
      // Linger briefly so the peer reads the answer before its request hits a closed socket,
      // but never hold many refused connections open.
      if (this.refused.size >= MAX_CONNECTIONS) socket.end();
      else {
        this.refused.add(socket);
        socket.timeout(REFUSED_LINGER_SECONDS);
      }
      return;
    }
    socket.data = { peer, decoder: new FrameDecoder(), queue: Promise.resolve(), busy: 0, closed: false };
    this.sockets.add(socket);
    socket.timeout(READ_TIMEOUT_SECONDS);
  }

  private onData(socket: AgentSocket, chunk: Buffer): void {
    const conn = socket.data;
    if (this.refused.has(socket)) return void socket.end();
    if (!conn || conn.closed) return;
    for (const item of conn.decoder.push(chunk)) {
      if (isFrameError(item)) {
        this.enqueue(socket, async () => failure("E_AGENT_PROTOCOL", item.message), "-");
        if (isFatalFrameError(item)) {
          conn.closed = true;
          break;
        }
        continue;
      }
      let action = "-";
      let handle: () => Promise<Response>;
      try {
        const request = parseRequest(item);
        action = request.action;
        handle = () => this.execute(conn.peer, request.action, request.params);
      } catch (e) {
        const message = isFrameError(e) ? e.message : "malformed request";
        handle = async () => failure("E_AGENT_PROTOCOL", message);
      }
      this.enqueue(socket, handle, action);
    }
    if (conn.closed) void conn.queue.then(() => socket.end());
  }

  private enqueue(socket: AgentSocket, handle: () => Promise<Response>, action: string): void {
    const conn = socket.data;
    conn.busy++;
    socket.timeout(0);
    const job = conn.queue.then(async () => {
      const started = performance.now();
      const response = await handle();
      logEvent("agent.request", {
        uid: conn.peer.uid,
        pid: conn.peer.pid,
        action,
        outcome: response.ok ? "ok" : String(response.code),
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
      });
      if (!this.sockets.has(socket)) return;
      socket.write(encodeFrame(response));
    });
    conn.queue = job;
    this.inFlight.add(job);
    void job.finally(() => {
      this.inFlight.delete(job);
      conn.busy--;
      if (conn.busy === 0 && !conn.closed) socket.timeout(READ_TIMEOUT_SECONDS);
    });
  }

  private async execute(peer: PeerCredentials, name: string, rawParams: Record<string, unknown>): Promise<Response> {
    const action = this.options.actions.get(name);
    if (!action) return failure("E_AGENT_UNKNOWN_ACTION", `unknown action "${name}"`);
    if (action.setupOnly && setupIsComplete()) {
      return failure("E_SETUP_COMPLETE", `${name} is only available during setup (setup is complete)`);
    }
    let params: unknown;
    try {
      params = action.params.parse(rawParams, "params");
    } catch (e) {
      if (isSchemaError(e)) return failure("E_AGENT_INVALID_PARAMS", e.message);
      throw e;
    }
    const timeout = AbortSignal.timeout(action.timeoutMs);
    const signal = AbortSignal.any([timeout, this.shutdown.signal]);
    const ctx = this.options.context(peer, signal);
    try {
      const result = await Promise.race([
        enforceScope(name, params, scopeProbe(ctx)).then(() => action.handler(params, ctx)),
        new Promise<never>((_, reject) =>
          signal.addEventListener(
            "abort",
            () => reject(new BlockhostError("E_TIMEOUT", `${name} timed out after ${action.timeoutMs} ms`)),
            { once: true },
          ),
        ),
      ]);
      return { ...result, ok: true };
    } catch (e) {
      if (isOutOfScope(e)) auditOutOfScope(peer, name, e);
      if (isBlockhostError(e)) return failure(e.code, e.message);
      logEvent("agent.internal_error", { action: name, error: e instanceof Error ? e.message : String(e) });
      return failure("E_INTERNAL", `${name} failed unexpectedly`);
    }
  }

  private onTimeout(socket: AgentSocket): void {
    if (this.refused.has(socket)) return void socket.end();
    const conn = socket.data;
    if (!conn || conn.busy > 0) return;
    conn.closed = true;
    const message = conn.decoder.pending > 0 ? "truncated frame: read timed out" : "idle connection closed";
    socket.end(encodeFrame(failure("E_TIMEOUT", message)));
  }

  /** The peer half-closed: answer what it already sent, then close. */
  private onEnd(socket: AgentSocket): void {
    const conn = socket.data;
    if (!conn || this.refused.has(socket)) return void socket.end();
    conn.closed = true;
    void conn.queue.then(() => socket.end());
  }

  private onClose(socket: AgentSocket): void {
    this.sockets.delete(socket);
    this.refused.delete(socket);
    if (socket.data) socket.data.closed = true;
  }
}
