/** A test's end of a serial console session socket (the agent's relay): what arrived so far, and waiting on it. */
import { connect, type Socket } from "node:net";
import type { Locator } from "playwright-core";

export interface ConsoleClient {
  /** Everything received so far (latin1, as the bytes came). */
  text(): string;
  write(text: string): void;
  /** Resolves once the received text matches; rejects after `timeoutMs` naming what did arrive. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the agent closed the session. */
  readonly closed: Promise<void>;
  close(): void;
}

export async function connectConsole(path: string): Promise<ConsoleClient> {
  const socket: Socket = connect(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let received = "";
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  return {
    text: () => received,
    write: (t) => void socket.write(t),
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(received)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`console never showed ${pattern}; it shows ${JSON.stringify(received.slice(-400))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => socket.end(),
  };
}

/** The text xterm.js shows in `box` (its DOM renderer's rows), one line per row, non-breaking spaces as spaces. */
export async function terminalText(box: Locator): Promise<string> {
  const text = await box
    .locator(".xterm-rows")
    .evaluate((rows) => [...rows.children].map((r) => r.textContent ?? "").join("\n"))
    .catch(() => "");
  return text.replace(/\u00a0/g, " ");
}
