/** The engine's RPC access: several providers, per-provider rate-limit back-off and health, batches answered by one node. */
import { custom, HttpRequestError, RpcRequestError, TimeoutError, webSocket, type Transport } from "viem";
import { getHttpRpcClient } from "viem/utils";
import { BlockhostError } from "../core/errors.ts";

export interface RpcCall {
  method: string;
  params?: unknown[];
}

/** One answer of a batch: a result, or the node's JSON-RPC error. */
export type RpcAnswer = { result: unknown; error?: undefined } | { result?: undefined; error: RpcErrorBody };
export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

/** What `blockhost status` shows per provider. */
export interface ProviderHealth {
  url: string;
  requests: number;
  errors: number;
  rate_limited: number;
  lag_seen: number;
  max_lag_blocks: number;
  last_error: string | null;
  last_error_at: string | null;
  cooling_until: string | null;
}

export interface RpcPoolOptions {
  timeoutMs: number;
  /** Rounds over the provider list before a request fails. */
  rounds?: number;
  /** Longest a request waits for a rate-limited provider to cool down before failing. */
  maxWaitMs?: number;
  /**
   * Single requests made in the same turn of the event loop go out as one JSON-RPC batch (up to
   * this many calls per HTTP request; 0 or absent: one request each). Many jobs in flight then
   * cost a few HTTP requests per turn instead of one per call.
   */
  coalesce?: number;
}

interface Queued {
  call: RpcCall;
  resolve(a: { answer: RpcAnswer; provider: string }): void;
  reject(e: unknown): void;
}

const RATE_LIMIT_RE =
  /rate.?limit|rate exceeded|too many requests|throttl|request limit|compute units|capacity exceeded/i;

/** A provider saying "slow down" (HTTP 429, JSON-RPC 429, or the usual phrasings), as opposed to "ask for less". */
export function isRateLimit(e: unknown): boolean {
  const status = (e as { status?: number })?.status;
  const code = (e as { code?: number })?.code ?? (e as { cause?: { code?: number } })?.cause?.code;
  if (status === 429 || code === 429) return true;
  const text = `${(e as { details?: string })?.details ?? ""} ${(e as Error)?.message ?? e}`;
  return RATE_LIMIT_RE.test(text);
}

/** A failure of the transport or the provider (try another one), not an answer from the chain. */
function isTransportFailure(e: unknown): boolean {
  if (e instanceof TimeoutError || e instanceof HttpRequestError) return true;
  if (e instanceof RpcRequestError) return (e.status ?? 200) >= 500 || isRateLimit(e);
  return !(e instanceof RpcRequestError);
}

/** Seconds or an HTTP date from a Retry-After header, in ms (null when absent or unreadable). */
export function retryAfterMs(headers: Headers | undefined, nowMs = Date.now()): number | null {
  const v = headers?.get("retry-after");
  if (!v) return null;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

class Provider {
  readonly health: ProviderHealth;
  coolingUntil = 0;
  private rateStrikes = 0;
  private readonly send: (calls: RpcCall[]) => Promise<RpcAnswer[]>;

  constructor(
    readonly url: string,
    timeoutMs: number,
  ) {
    this.health = {
      url: redactUrl(url),
      requests: 0,
      errors: 0,
      rate_limited: 0,
      lag_seen: 0,
      max_lag_blocks: 0,
      last_error: null,
      last_error_at: null,
      cooling_until: null,
    };
    if (/^wss?:/.test(url)) {
      // A socket is one node: a batch sent call by call on it is still answered by that node.
      const ws = webSocket(url, { timeout: timeoutMs, retryCount: 0 })({ retryCount: 0 });
      this.send = async (calls) => {
        const out: RpcAnswer[] = [];
        for (const c of calls) {
          try {
            out.push({ result: await ws.request({ method: c.method, params: c.params ?? [] } as never) });
          } catch (e) {
            const code = (e as { code?: number }).code;
            if (typeof code !== "number") throw e;
            out.push({ error: { code, message: (e as Error).message, data: (e as { data?: unknown }).data } });
          }
        }
        return out;
      };
    } else {
      const client = getHttpRpcClient(url, { timeout: timeoutMs });
      this.send = async (calls) => {
        const answers = (await client.request({
          body: calls.map((c) => ({ method: c.method, params: c.params ?? [] })),
        })) as Array<RpcAnswer & { id: number }>;
        if (!Array.isArray(answers) || answers.length !== calls.length) {
          throw new HttpRequestError({ url, details: "batch answer does not match the request" });
        }
        // Answers may come in any order; ids were assigned in call order.
        return [...answers]
          .sort((a, b) => a.id - b.id)
          .map((a) => (a.error ? { error: a.error } : { result: a.result }));
      };
    }
  }

  async call(calls: RpcCall[]): Promise<RpcAnswer[]> {
    this.health.requests++;
    try {
      const answers = await this.send(calls);
      const limited = answers.find((a) => a.error && isRateLimit({ code: a.error.code, message: a.error.message }));
      if (limited)
        throw new RpcRequestError({
          body: { batch: calls.map((c) => c.method) },
          error: limited.error!,
          url: this.url,
        });
      this.rateStrikes = 0;
      return answers;
    } catch (e) {
      this.failed(e);
      throw e;
    }
  }

  private failed(e: unknown): void {
    this.health.errors++;
    this.health.last_error = describe(e);
    this.health.last_error_at = new Date().toISOString();
    if (isRateLimit(e)) {
      this.health.rate_limited++;
      this.rateStrikes++;
      const wait =
        retryAfterMs((e as { headers?: Headers }).headers) ??
        Math.min(60_000, 500 * 2 ** Math.min(7, this.rateStrikes));
      this.coolingUntil = Date.now() + wait;
      this.health.cooling_until = new Date(this.coolingUntil).toISOString();
    }
  }
}

/** A provider URL without credentials or API-key paths (keys often sit in the path). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.length > 1 ? "/…" : "";
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return "(invalid url)";
  }
}

function describe(e: unknown): string {
  if (e instanceof TimeoutError) return "timeout";
  if (e instanceof HttpRequestError)
    return `HTTP ${e.status ?? "request failed"}${e.details ? `: ${e.details}` : ""}`.slice(0, 200);
  if (e instanceof RpcRequestError)
    return `${e.status ? `HTTP ${e.status} ` : ""}RPC ${e.code}: ${e.details}`.slice(0, 200);
  return (e instanceof Error ? e.message : String(e)).slice(0, 200);
}

/**
 * Several RPC providers in order of preference. A request goes to the first provider that is not
 * cooling down after a rate limit; transport failures (timeouts, resets, 5xx) move it to the next;
 * an answer from the chain (a result or a JSON-RPC error such as a revert) is returned as it is.
 * `batch` sends several calls in ONE HTTP request, so one node answers all of them — the watcher
 * uses that to prove the node that returned logs had the blocks they cover.
 */
export class RpcPool {
  private readonly providers: Provider[];
  private readonly rounds: number;
  private readonly maxWaitMs: number;
  private readonly coalesce: number;
  private queued: Queued[] = [];

  constructor(urls: readonly string[], opts: RpcPoolOptions) {
    if (urls.length === 0) throw new BlockhostError("E_CONFIG_INVALID", "no RPC URL configured");
    this.providers = urls.map((u) => new Provider(u, opts.timeoutMs));
    this.rounds = opts.rounds ?? 3;
    this.maxWaitMs = opts.maxWaitMs ?? 10_000;
    this.coalesce = opts.coalesce ?? 0;
  }

  /** Several calls answered by one node (each answer may be a result or an error). */
  async batch(calls: RpcCall[]): Promise<{ answers: RpcAnswer[]; provider: string }> {
    let last: unknown;
    for (let round = 0; round < this.rounds; round++) {
      for (const p of await this.ready()) {
        try {
          return { answers: await p.call(calls), provider: p.url };
        } catch (e) {
          last = e;
          if (!isTransportFailure(e)) throw e;
        }
      }
      if (round + 1 < this.rounds) await Bun.sleep(250 * 2 ** round);
    }
    throw last ?? new BlockhostError("E_CHAIN", "no RPC provider answered");
  }

  /** One call; a JSON-RPC error is thrown as viem's RpcRequestError (so reverts decode as usual). */
  async request(method: string, params: unknown[] = []): Promise<unknown> {
    const { answer, provider } =
      this.coalesce > 0
        ? await new Promise<{ answer: RpcAnswer; provider: string }>((resolve, reject) => {
            if (this.queued.push({ call: { method, params }, resolve, reject }) === 1) setImmediate(() => this.flush());
          })
        : await this.batch([{ method, params }]).then((r) => ({ answer: r.answers[0]!, provider: r.provider }));
    if (answer.error) throw new RpcRequestError({ body: { method, params }, error: answer.error, url: provider });
    return answer.result;
  }

  /** Send the requests queued this turn, `coalesce` per batch; a batch's failure is each of its requests' failure. */
  private flush(): void {
    const all = this.queued;
    this.queued = [];
    for (let i = 0; i < all.length; i += this.coalesce) {
      const part = all.slice(i, i + this.coalesce);
      this.batch(part.map((q) => q.call)).then(
        ({ answers, provider }) => {
          for (const [k, q] of part.entries()) q.resolve({ answer: answers[k]!, provider });
        },
        (e) => {
          for (const q of part) q.reject(e);
        },
      );
    }
  }

  /** A viem transport over the pool (retries are the pool's, so viem's are off). */
  transport(): Transport {
    return custom(
      { request: ({ method, params }) => this.request(method, (params ?? []) as unknown[]) },
      { retryCount: 0 },
    );
  }

  /** Record that a provider answered from behind the chain's head (a lagging backend). */
  noteLag(url: string, blocks: number): void {
    const p = this.providers.find((x) => x.url === url);
    if (!p) return;
    p.health.lag_seen++;
    p.health.max_lag_blocks = Math.max(p.health.max_lag_blocks, blocks);
  }

  health(): ProviderHealth[] {
    const now = Date.now();
    return this.providers.map((p) => ({
      ...p.health,
      cooling_until: p.coolingUntil > now ? p.health.cooling_until : null,
    }));
  }

  /** Providers not cooling down, in order; when all are, wait (bounded) for the first to be ready. */
  private async ready(): Promise<Provider[]> {
    const now = Date.now();
    const open = this.providers.filter((p) => p.coolingUntil <= now);
    if (open.length > 0) return open;
    const first = Math.min(...this.providers.map((p) => p.coolingUntil));
    if (first - now > this.maxWaitMs) {
      throw new BlockhostError(
        "E_CHAIN",
        `every RPC provider is rate-limited for ${Math.ceil((first - now) / 1000)} s more`,
        { rate_limited: true },
      );
    }
    await Bun.sleep(first - now);
    return this.providers.filter((p) => p.coolingUntil <= Date.now());
  }
}
