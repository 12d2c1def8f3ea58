// The engine's periodic duties beside the log watcher and job queue: admin commands (knocks), the fund manager,
// nonce gaps, usage sampling.
import { logEvent } from "../core/log.ts";
import type { EngineContext } from "./context.ts";
import type { EngineConfigs } from "./settings.ts";
import { AdminCommandDuty } from "./admin-commands/duty.ts";
import { FundDuty } from "./funds/duty.ts";
import { REBROADCAST_MS } from "./minter-tx.ts";
import type { NonceManager } from "./nonces.ts";
import { DEFAULT_SAMPLE_INTERVAL_S, UsageDuty } from "./usage-duty.ts";

export class EngineDuties {
  private lastGapCheck = 0;

  private constructor(
    private readonly admin: AdminCommandDuty | null,
    private readonly funds: FundDuty | null,
    private readonly nonces: NonceManager,
    private readonly usage: UsageDuty,
  ) {}

  static async start(ctx: EngineContext, configs: Pick<EngineConfigs, "web3" | "blockhost">): Promise<EngineDuties> {
    const { settings } = ctx;
    const admin = AdminCommandDuty.create(ctx.db, {
      ...configs,
      access: ctx.access,
      serverKey: ctx.serverKey,
      chainId: settings.chainId,
      startBlock: Number(settings.startBlock),
    });
    await admin?.start();
    const funds = FundDuty.create(ctx.db, { ...configs, access: ctx.access });
    const interval = (configs.blockhost.usage?.sample_interval_s ?? DEFAULT_SAMPLE_INTERVAL_S) * 1000;
    const usage = new UsageDuty(ctx.db, ctx.provisioner.backend, interval);
    return new EngineDuties(admin, funds, ctx.nonces, usage);
  }

  /** Once per poll, after the watcher: `confirmed` is the watcher's cursor (the blocks it has applied). */
  async poll(confirmed: bigint | null, stopping: () => boolean): Promise<void> {
    await this.admin?.poll(confirmed, stopping);
    if (!stopping()) await this.funds?.poll();
    if (!stopping()) await this.usage.poll();
    // Serve, finalize and the fund manager sign with the minting key too: a send of theirs stuck behind a
    // nonce nobody filled is repaired here even when no mint of ours is waiting.
    if (!stopping() && Date.now() - this.lastGapCheck >= REBROADCAST_MS) {
      this.lastGapCheck = Date.now();
      await this.nonces
        .repairGap()
        .catch((e) => logEvent("engine.nonce_gap_repair_failed", { error: (e as Error).message }));
    }
  }

  /** When a duty next needs the loop awake (a knock deadline, a fund cycle), in ms since the epoch. */
  nextDue(): number | null {
    const times = [this.admin?.nextDeadline(), this.funds?.nextDue(), this.usage.nextDue()].filter(
      (t): t is number => typeof t === "number",
    );
    // Never sooner than a second from now: a duty that cannot make progress must not spin the loop.
    return times.length ? Math.max(Date.now() + 1000, Math.min(...times)) : null;
  }
}
