/**
 * Failed one-time-code tries, per client (IPv4 address or IPv6 /64): after the n-th wrong code a
 * client waits 2^(n-1) seconds (at most 15 minutes) before its next try is even checked. There is no
 * global counter, so no anonymous client can lock the operator out.
 */

const BASE_MS = 1_000;
const MAX_WAIT_MS = 15 * 60_000;
/** Clients remembered at most; beyond it the longest-quiet ones are forgotten (bounded memory under a flood). */
const MAX_CLIENTS = 10_000;

interface Failures {
  count: number;
  until: number;
}

export class LoginBackoff {
  private readonly clients = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds `client` must still wait before a try is checked (0: go ahead). */
  waitMs(client: string): number {
    const f = this.clients.get(client);
    return f ? Math.max(0, f.until - this.now()) : 0;
  }

  /** Count a wrong code; returns how long the client now waits. */
  failed(client: string): number {
    const f = this.clients.get(client) ?? { count: 0, until: 0 };
    f.count += 1;
    const wait = Math.min(MAX_WAIT_MS, BASE_MS * 2 ** Math.min(30, f.count - 1));
    f.until = this.now() + wait;
    this.clients.delete(client);
    this.clients.set(client, f);
    if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
    return wait;
  }

  /** A right code clears the client's record. */
  succeeded(client: string): void {
    this.clients.delete(client);
  }
}
