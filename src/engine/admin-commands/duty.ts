// The engine's admin-command duty: scan confirmed blocks for commands each poll, run knock deadlines, recover after a restart.
import type { Database } from "bun:sqlite";
import { AgentClient } from "../../agent/client.ts";
import type { ChainAccess } from "../../chain/client.ts";
import { chainError } from "../../chain/errors.ts";
import type { BlockhostConfig, Web3Config } from "../../core/config/index.ts";
import { oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { KnockManager } from "./knock.ts";
import { processTransactions } from "./process.ts";
import { BlockScanner, batchingClient } from "./scanner.ts";
import { loadAdminSettings, type AdminSettings } from "./settings.ts";

/** Rounds of one batch each per poll at most, so a long catch-up never starves the job queue. */
const MAX_ROUNDS_PER_POLL = 20;

export class AdminCommandDuty {
  private constructor(
    private readonly db: Database,
    private readonly settings: AdminSettings,
    private readonly serverKey: Uint8Array,
    private readonly scanner: BlockScanner,
    readonly knocks: KnockManager,
  ) {}

  /** Null when admin commands are off (no admin section or no commands defined). */
  static create(
    db: Database,
    deps: {
      web3: Web3Config;
      blockhost: BlockhostConfig;
      access: ChainAccess;
      serverKey: Uint8Array;
      chainId: number;
      startBlock: number;
    },
  ): AdminCommandDuty | null {
    const settings = loadAdminSettings(deps.blockhost, deps.serverKey);
    if (!settings) return null;
    const scanner = new BlockScanner(db, batchingClient(deps.web3, deps.access), {
      chainId: deps.chainId,
      startBlock: deps.startBlock,
    });
    const knocks = new KnockManager(db, new AgentClient({ timeoutMs: 60_000 }), {
      defaultDeny: settings.defaultDeny,
      loginLog: settings.loginLog,
    });
    logEvent("admin.enabled", {
      wallet: settings.wallet,
      mode: settings.mode,
      commands: Object.keys(settings.commands).length,
      default_deny: settings.defaultDeny,
    });
    return new AdminCommandDuty(db, settings, deps.serverKey, scanner, knocks);
  }

  /** After start: close knocks that expired while the engine was down, restore live ones, apply the default deny. */
  async start(): Promise<void> {
    try {
      await this.knocks.recover();
      const ports = Object.values(this.settings.commands).flatMap((c) => c.params?.allowed_ports ?? [22]);
      await this.knocks.applyDefaultDeny(ports);
    } catch (e) {
      logEvent("admin.start_failed", { error: oneLine(e) });
    }
  }

  /** Each poll: scan what the watcher has confirmed, then enforce knock deadlines and narrowing. */
  async poll(confirmed: bigint | null, stopping: () => boolean): Promise<void> {
    if (confirmed !== null) {
      try {
        for (let i = 0; i < MAX_ROUNDS_PER_POLL && !stopping(); i++) {
          const more = await this.scanner.round(Number(confirmed), (txs) =>
            processTransactions(
              { db: this.db, settings: this.settings, serverKey: this.serverKey, knocks: this.knocks },
              txs,
            ),
          );
          if (!more) break;
        }
      } catch (e) {
        logEvent("admin.scan_failed", { error: oneLine(chainError(e, "scan blocks for admin commands")) });
      }
    }
    await this.knocks.tick();
  }

  nextDeadline(): number | null {
    return this.knocks.nextDeadline();
  }
}
