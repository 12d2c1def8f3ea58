// The engine's fund duty: run the fund cycle and the gas check on their intervals (kept in SQLite), never two at once.
import type { Database } from "bun:sqlite";
import { hostname } from "node:os";
import type { ChainAccess } from "../../chain/client.ts";
import { contractAddress } from "../../chain/context.ts";
import { parseFundManager, type FundManagerConfig } from "../../core/config/fund-manager.ts";
import type { BlockhostConfig, Web3Config } from "../../core/config/index.ts";
import { oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import {
  markTimerDone,
  markTimerRetry,
  readTimer,
  releaseFundLease,
  takeFundLease,
  type FundTimer,
} from "../../core/state/funds.ts";
import { FundManager } from "./manager.ts";

/** A failed cycle is retried after this long (or at its interval, if sooner). */
export const FUND_RETRY_MS = 5 * 60_000;
/** The lease outlives any single cycle; a crashed holder's lease expires on its own. */
export const FUND_LEASE_MS = 30 * 60_000;

export function timerDue(db: Database, name: FundTimer, intervalMs: number): number {
  const t = readTimer(db, name);
  return t.retry_at !== null ? t.retry_at : t.last_at + intervalMs;
}

/** A holder on this host whose process no longer exists (killed mid-cycle): its lease is void. */
function holderDied(holder: string): boolean {
  const [host, pid] = holder.split(":");
  if (host !== hostname() || !/^\d+$/.test(pid ?? "")) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Run `work` under the fund lease (shared with `blockhost funds run` through the database);
 * false when another run holds it.
 */
export async function underFundLease(db: Database, work: () => Promise<unknown>): Promise<boolean> {
  const holder = `${hostname()}:${process.pid}:${crypto.randomUUID()}`;
  if (!takeFundLease(db, holder, Date.now(), Date.now() + FUND_LEASE_MS, holderDied)) return false;
  try {
    await work();
    return true;
  } finally {
    releaseFundLease(db, holder);
  }
}

export class FundDuty {
  private constructor(
    private readonly db: Database,
    private readonly cfg: FundManagerConfig,
    private readonly manager: FundManager,
  ) {}

  static create(
    db: Database,
    deps: { web3: Web3Config; blockhost: BlockhostConfig; access: ChainAccess },
  ): FundDuty | null {
    if (deps.blockhost.fund_manager === undefined) return null;
    const cfg = parseFundManager(deps.blockhost.fund_manager);
    if (!cfg.enabled) return null;
    const manager = new FundManager({
      db,
      access: deps.access,
      web3: deps.web3,
      config: cfg,
      subscriptions: contractAddress(deps.web3, "subscriptions"),
    });
    logEvent("funds.enabled", {
      cycle_hours: cfg.fund_cycle_interval_hours,
      gas_check_minutes: cfg.gas_check_interval_minutes,
    });
    return new FundDuty(db, cfg, manager);
  }

  private get cycleMs() {
    return this.cfg.fund_cycle_interval_hours * 3_600_000;
  }
  private get gasMs() {
    return this.cfg.gas_check_interval_minutes * 60_000;
  }

  nextDue(): number {
    return Math.min(timerDue(this.db, "fund_cycle", this.cycleMs), timerDue(this.db, "gas_check", this.gasMs));
  }

  async poll(): Promise<void> {
    if (Date.now() >= timerDue(this.db, "fund_cycle", this.cycleMs))
      await this.run("fund_cycle", () => this.manager.runCycle(), true);
    if (Date.now() >= timerDue(this.db, "gas_check", this.gasMs))
      await this.run("gas_check", () => this.manager.runGasCheck(), false);
  }

  /** A failed fund cycle is retried later; the gas check's time moves on even when it fails (as the original). */
  private async run(name: FundTimer, work: () => Promise<unknown>, retryOnFailure: boolean): Promise<void> {
    try {
      if (!(await underFundLease(this.db, work))) return;
      markTimerDone(this.db, name, Date.now());
    } catch (e) {
      logEvent(`funds.${name}_failed`, { error: oneLine(e) });
      if (retryOnFailure)
        markTimerRetry(
          this.db,
          name,
          Date.now() + Math.min(FUND_RETRY_MS, Math.max(1000, name === "fund_cycle" ? this.cycleMs : this.gasMs)),
        );
      else markTimerDone(this.db, name, Date.now());
    }
  }
}
