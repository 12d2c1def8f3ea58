// The engine's periodic duties beside the log watcher and job queue: admin commands (knocks) and the fund manager.
import type { EngineContext } from "./context.ts";
import type { EngineConfigs } from "./settings.ts";
import { AdminCommandDuty } from "./admin-commands/duty.ts";
import { FundDuty } from "./funds/duty.ts";

export class EngineDuties {
  private constructor(
    private readonly admin: AdminCommandDuty | null,
    private readonly funds: FundDuty | null,
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
    return new EngineDuties(admin, funds);
  }

  /** Once per poll, after the watcher: `confirmed` is the watcher's cursor (the blocks it has applied). */
  async poll(confirmed: bigint | null, stopping: () => boolean): Promise<void> {
    await this.admin?.poll(confirmed, stopping);
    if (!stopping()) await this.funds?.poll();
  }

  /** When a duty next needs the loop awake (a knock deadline, a fund cycle), in ms since the epoch. */
  nextDue(): number | null {
    const times = [this.admin?.nextDeadline(), this.funds?.nextDue()].filter((t): t is number => typeof t === "number");
    // Never sooner than a second from now: a duty that cannot make progress must not spin the loop.
    return times.length ? Math.max(Date.now() + 1000, Math.min(...times)) : null;
  }
}
