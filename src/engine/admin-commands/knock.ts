// The `knock` action: open allowed ports through the agent, narrow them to the address that logs in, close at the deadline.
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";
import type { AgentClient } from "../../agent/client.ts";
import type { AdminCommand } from "../../core/config/admin-commands.ts";
import { BlockhostError, oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { array, int, isSchemaError, object, optional, type Infer } from "../../core/schema.ts";
import { ipAddress, port } from "../../core/validators.ts";
import {
  insertKnock,
  knockByTx,
  liveKnocks,
  updateKnock,
  type Knock,
  type KnockRule,
} from "../../core/state/admin-commands.ts";
import { checkLogin, loginLogStart } from "./logins.ts";
import { now as clockNow } from "../../core/clock.ts";

export const KNOCK_COMMENT = "blockhost-knock";
export const MIN_DURATION = 1;
export const MAX_DURATION = 3600;
const SSH_PORT = 22;

const knockParams = object({
  ports: optional(array(port, 1, 32)),
  duration: optional(int(-(2 ** 31), 2 ** 31)),
  source: optional(ipAddress),
});

export interface KnockOptions {
  defaultDeny: boolean;
  loginLog: string;
  now?: () => number;
}

const sameRule = (a: KnockRule, b: KnockRule) =>
  a.port === b.port && a.proto === b.proto && (a.source ?? null) === (b.source ?? null);
const ruleText = (r: KnockRule) => `${r.proto}/${r.port}${r.source ? ` from ${r.source}` : ""}`;

/**
 * Knock sessions, persisted in SQLite (phase, rules, deadline) so that a restarted engine closes
 * expired rules and keeps live ones until their deadline: no rule is ever left open forever.
 */
export class KnockManager {
  private readonly now: () => number;

  constructor(
    private readonly db: Database,
    private readonly agent: AgentClient,
    private readonly opts: KnockOptions,
  ) {
    // The lifecycle clock (BLOCKHOST_NOW can fix it), like every other deadline the engine keeps.
    this.now = opts.now ?? (() => clockNow().getTime());
  }

  /** Validate the command's params against its definition and open the rules. */
  async open(txHash: Hex, name: string, def: AdminCommand, raw: Record<string, unknown>): Promise<Knock> {
    let params: Infer<typeof knockParams>;
    try {
      params = knockParams.parse(raw, "params");
    } catch (e) {
      if (isSchemaError(e)) throw new BlockhostError("E_INVALID_INPUT", e.message);
      throw e;
    }
    const allowed = def.params?.allowed_ports ?? [SSH_PORT];
    const ports = [...new Set(params.ports ?? allowed)];
    const refused = ports.filter((p) => !allowed.includes(p));
    if (refused.length)
      throw new BlockhostError(
        "E_INVALID_INPUT",
        `ports ${refused.join(", ")} are not in allowed_ports (${allowed.join(", ")})`,
      );
    const duration = Math.min(
      MAX_DURATION,
      Math.max(MIN_DURATION, params.duration ?? def.params?.default_duration ?? 300),
    );
    const proto = def.params?.proto ?? "tcp";
    const rules: KnockRule[] = ports.map((p) =>
      params.source ? { port: p, proto, source: params.source } : { port: p, proto },
    );
    const existing = knockByTx(this.db, txHash);
    if (existing) return existing;
    const openedAt = this.now();
    const id = insertKnock(this.db, {
      txHash,
      command: name,
      rules,
      source: params.source ?? null,
      deadline: openedAt + duration * 1000,
      openedAt,
      loginCursor: loginLogStart(this.opts.loginLog),
    });
    for (const r of rules) await this.agent.call("iptables-open", this.ruleParams(r));
    logEvent("admin.knock_opened", { tx: txHash, rules: rules.map(ruleText), duration_s: duration });
    return {
      id,
      txHash,
      command: name,
      phase: "open",
      rules,
      source: params.source ?? null,
      deadline: openedAt + duration * 1000,
      openedAt,
      loginCursor: 0,
    };
  }

  /**
   * After a (re)start: close every knock whose deadline passed and make sure live ones have
   * their rules (the crash may have come between recording and opening them).
   */
  async recover(): Promise<void> {
    for (const k of liveKnocks(this.db)) {
      if (k.deadline <= this.now()) await this.close(k, "deadline passed while the engine was down");
      else for (const r of k.rules) await this.agent.call("iptables-open", this.ruleParams(r));
    }
  }

  /** Apply (or lift) the default deny for every port a command may open. */
  async applyDefaultDeny(ports: readonly number[]): Promise<void> {
    for (const p of new Set(ports)) {
      for (const family of ["ipv4", "ipv6"] as const) {
        await this.agent.call(this.opts.defaultDeny ? "iptables-deny" : "iptables-undeny", {
          port: p,
          proto: "tcp",
          family,
        });
      }
    }
  }

  /** Close knocks at their deadline; narrow open ones to the address that logged in. */
  async tick(): Promise<void> {
    for (const k of liveKnocks(this.db)) {
      try {
        if (k.deadline <= this.now()) await this.close(k, "deadline");
        else if (k.phase === "open" && !k.source) await this.narrowOnLogin(k);
      } catch (e) {
        logEvent("admin.knock_error", { tx: k.txHash, error: oneLine(e) });
      }
    }
  }

  /** The earliest deadline of a live knock (the engine wakes up for it). */
  nextDeadline(): number | null {
    const live = liveKnocks(this.db);
    return live.length ? Math.min(...live.map((k) => k.deadline)) : null;
  }

  private async narrowOnLogin(k: Knock): Promise<void> {
    const ssh = k.rules.some((r) => r.port === SSH_PORT);
    const login = checkLogin(this.opts.loginLog, k.openedAt, k.loginCursor, ssh);
    if (!login.ip) {
      if (login.cursor !== k.loginCursor) updateKnock(this.db, k.id, { loginCursor: login.cursor });
      return;
    }
    const narrow = k.rules.map((r) => ({ port: r.port, proto: r.proto, source: login.ip! }));
    // Recorded first: whatever happens next, closing the knock removes both sets.
    updateKnock(this.db, k.id, { rules: [...k.rules, ...narrow], loginCursor: login.cursor });
    for (const r of narrow) await this.agent.call("iptables-open", this.ruleParams(r));
    await this.removeRules(k.id, k.rules);
    updateKnock(this.db, k.id, { phase: "narrowed", rules: narrow, source: login.ip });
    logEvent("admin.knock_narrowed", { tx: k.txHash, source: login.ip, rules: narrow.map(ruleText) });
  }

  private async close(k: Knock, why: string): Promise<void> {
    await this.removeRules(k.id, k.rules);
    updateKnock(this.db, k.id, { phase: "closed" });
    logEvent("admin.knock_closed", { tx: k.txHash, why, rules: k.rules.map(ruleText) });
  }

  /** Remove rules, except those another live knock also holds. */
  private async removeRules(id: number, rules: readonly KnockRule[]): Promise<void> {
    const others = liveKnocks(this.db)
      .filter((o) => o.id !== id)
      .flatMap((o) => o.rules);
    for (const r of rules) {
      if (others.some((o) => sameRule(o, r))) continue;
      await this.agent.call("iptables-close", this.ruleParams(r));
    }
  }

  private ruleParams(r: KnockRule) {
    return { port: r.port, proto: r.proto, comment: KNOCK_COMMENT, ...(r.source ? { source: r.source } : {}) };
  }
}
