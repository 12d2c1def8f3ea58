/** What `blockhost dev` made, undone in reverse order however the demo stops (its end, an error, a signal). */
import { logEvent } from "../core/log.ts";
import { oneLine } from "../core/errors.ts";

const SIGNAL_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;

export class DemoLifetime {
  private readonly undo: Array<{ what: string; run: () => unknown }> = [];
  private stopped?: Promise<void>;
  private wake?: () => void;

  /** True once stopping began: long waits give up, and nothing new is started. */
  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /**
   * SIGINT, SIGTERM or SIGHUP at any moment (the template build, the wait for the engine, the final
   * wait): undo everything, then exit 128 + the signal's number. A second signal does not cut the undo short.
   */
  exitOnSignals(): void {
    for (const signal of Object.keys(SIGNAL_EXIT) as StopSignal[]) {
      process.on(signal, () => {
        if (this.stopping) return;
        void this.stop().then(() => process.exit(SIGNAL_EXIT[signal]));
      });
    }
  }

  /** Record how to undo what was just made; made after stopping began, it is undone at once. */
  async add(what: string, run: () => unknown): Promise<void> {
    if (this.stopping) {
      await this.runOne({ what, run });
      return;
    }
    this.undo.push({ what, run });
  }

  /** Resolves when stopping begins (the demo's final wait). */
  untilStopped(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Undo everything, newest first, each step even if an earlier one failed. The same promise every time. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.wake?.();
      while (this.undo.length > 0) await this.runOne(this.undo.pop()!);
    })();
    return this.stopped;
  }

  private async runOne(step: { what: string; run: () => unknown }): Promise<void> {
    try {
      await step.run();
    } catch (e) {
      logEvent("dev.cleanup_failed", { step: step.what, error: oneLine(e) });
    }
  }
}
