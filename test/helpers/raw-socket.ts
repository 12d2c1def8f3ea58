/** A raw agent socket client for protocol tests. */
import { connect, type Socket } from "node:net";
import { FrameDecoder, isFrameError } from "../../src/agent/protocol.ts";

/** A bare Unix-socket peer for protocol tests: write any bytes, read whole frames back. */
export class RawPeer {
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private readonly frames: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    const closed = () => {
      this.closed = true;
      this.wake();
    };
    socket.on("close", closed);
    socket.on("error", closed);
  }

  static async connect(path: string): Promise<RawPeer> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  end(): void {
    this.socket.end();
  }

  /** The next response frame, or undefined if the agent closed first or `ms` passed. */
  async next(ms = 15_000): Promise<Record<string, unknown> | undefined> {
    const deadline = Date.now() + ms;
    while (this.frames.length === 0 && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
    }
    return this.frames.shift();
  }

  /** Wait until the agent closes the connection (true) or `ms` passes (false). */
  async waitClosed(ms = 15_000): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await Bun.sleep(20);
    return this.closed;
  }

  private onData(chunk: Uint8Array): void {
    for (const item of this.decoder.push(chunk)) {
      if (!isFrameError(item)) this.frames.push(JSON.parse(new TextDecoder().decode(item)));
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
