/** The one client of the root agent, typed per action. */
import { connect, type Socket } from "node:net";
import { BlockhostError, isErrorCode } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import type { ActionName, ActionParams, ActionResponse } from "./actions/index.ts";
import { encodeFrame, FrameDecoder, isFrameError } from "./protocol.ts";

export const DEFAULT_CLIENT_TIMEOUT_MS = 300_000;

export interface AgentClientOptions {
  readonly socketPath?: string;
  /** Per request, covering connect, the action and the response. */
  readonly timeoutMs?: number;
}

type Reply = { ok: true } & Record<string, unknown>;
interface Pending {
  resolve(v: Reply): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

function toError(response: Record<string, unknown>): BlockhostError {
  const code = isErrorCode(response.code) ? response.code : "E_AGENT_PROTOCOL";
  return new BlockhostError(code, typeof response.error === "string" ? response.error : "agent refused the request");
}

/**
 * One connection to the root agent, answering requests in order. Use AgentClient.call for
 * one-off requests; keep a connection for many (the agent serves several per connection).
 */
export class AgentConnection {
  private readonly decoder = new FrameDecoder();
  private readonly pending: Pending[] = [];
  private closedError?: Error;

  private constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("close", () => this.fail(new BlockhostError("E_AGENT_PROTOCOL", "agent closed the connection")));
    socket.on("error", (e) =>
      this.fail(new BlockhostError("E_AGENT_UNAVAILABLE", `agent connection error: ${e.message}`)),
    );
  }

  // node:net rather than Bun.connect: under concurrent connects Bun.connect on a Unix socket
  // fails spuriously with ECONNREFUSED (seen with Bun 1.4.5); node:net does not.
  static async open(socketPath: string, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<AgentConnection> {
    const socket = connect(socketPath);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
    } catch (e) {
      socket.destroy();
      throw new BlockhostError(
        "E_AGENT_UNAVAILABLE",
        `root agent not reachable at ${socketPath} (${(e as { code?: string }).code ?? (e as Error).message}); is blockhost-agent running?`,
      );
    }
    socket.removeAllListeners("error");
    return new AgentConnection(socket, timeoutMs);
  }

  /** Send one request; resolves with the `{ok:true,...}` reply, throws BlockhostError otherwise. */
  request<N extends ActionName>(action: N, params: ActionParams<N>): Promise<ActionResponse<N> & { ok: true }> {
    return this.requestUnchecked(action, params as Record<string, unknown>) as Promise<
      ActionResponse<N> & { ok: true }
    >;
  }

  /** Any action name and params, checked only by the agent (for `blockhost agent call` and protocol tests). */
  requestUnchecked(action: string, params: Record<string, unknown>): Promise<Reply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new BlockhostError("E_TIMEOUT", `agent did not answer ${action} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.pending.push({ resolve, reject, timer });
      this.socket.write(encodeFrame({ action, params }));
    });
  }

  close(): void {
    this.closedError ??= new BlockhostError("E_AGENT_PROTOCOL", "connection closed");
    this.socket.end();
  }

  private onData(chunk: Uint8Array): void {
    for (const item of this.decoder.push(chunk)) {
      const waiter = this.pending.shift();
      if (!waiter) continue;
      clearTimeout(waiter.timer);
      if (isFrameError(item)) {
        waiter.reject(new BlockhostError("E_AGENT_PROTOCOL", `bad response from agent: ${item.message}`));
        continue;
      }
      let response: unknown;
      try {
        response = JSON.parse(new TextDecoder().decode(item));
      } catch {
        waiter.reject(new BlockhostError("E_AGENT_PROTOCOL", "agent sent invalid JSON"));
        continue;
      }
      if (typeof response !== "object" || response === null)
        waiter.reject(new BlockhostError("E_AGENT_PROTOCOL", "agent sent a non-object response"));
      else if ((response as { ok?: unknown }).ok === true) waiter.resolve(response as Reply);
      else waiter.reject(toError(response as Record<string, unknown>));
    }
  }

  private fail(error: Error): void {
    this.closedError ??= error;
    for (const waiter of this.pending.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.socket.end();
  }
}

/** The one client every part of BlockHost uses for privileged work. */
export class AgentClient {
  readonly socketPath: string;
  readonly timeoutMs: number;

  constructor(options: AgentClientOptions = {}) {
    this.socketPath = options.socketPath ?? paths.agentSocket;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  }

  /** A single request on its own connection. */
  async call<N extends ActionName>(action: N, params: ActionParams<N>): Promise<ActionResponse<N> & { ok: true }> {
    return (await this.callUnchecked(action, params as Record<string, unknown>)) as ActionResponse<N> & { ok: true };
  }

  /** Any action name and params, checked only by the agent. */
  async callUnchecked(action: string, params: Record<string, unknown>): Promise<Reply> {
    const connection = await AgentConnection.open(this.socketPath, this.timeoutMs);
    try {
      return await connection.requestUnchecked(action, params);
    } finally {
      connection.close();
    }
  }

  /** A persistent connection for many requests. */
  connect(): Promise<AgentConnection> {
    return AgentConnection.open(this.socketPath, this.timeoutMs);
  }

  ping(): Promise<{ output: string }> {
    return this.call("ping", {}) as Promise<{ ok: true; output: string }>;
  }
}
