/** The wizard's finalization: write the setup file and secrets (0600), then run the shared runner in the background. */
import type { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { AgentClient } from "../../agent/client.ts";
import { oneLine } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { prepareSetup, retryStep, runSetup, setupStatus, type StepView } from "../../setup/runner.ts";
import { toSetupFile, type Draft } from "./draft.ts";

const secretFile = (name: string, content: string) => {
  const file = paths.state(name);
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
};

export interface FinalizeView {
  running: boolean;
  error: string | null;
  complete: boolean;
  steps: StepView[];
  /** The last progress line of each step that reported one in this run (the template import or build). */
  progress: Record<string, string>;
}

/** One finalization at a time per wizard process; its progress is the runner's step records. */
export class FinalizeJob {
  private running = false;
  private error: string | null = null;
  private progress: Record<string, string> = {};
  private waiters: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly agent: AgentClient,
  ) {}

  /** Write the files and start (no-op while running). Throws an E_SCHEMA error when the draft is incomplete. */
  start(draft: Draft): void {
    if (this.running) return;
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
    const files = {
      signature: secretFile("wizard-admin.sig", `${draft.admin?.signature ?? ""}\n`),
      deployerKey: secretFile("wizard-deployer.key", `${draft.deployer_key ?? ""}\n`),
    };
    const setup = toSetupFile(draft, files);
    secretFile("wizard-setup.yaml", stringify(setup));
    this.run(setup);
  }

  /** Mark a step pending again and run from there. */
  retry(step: string, draft: Draft): void {
    if (this.running) return;
    retryStep(this.db, step);
    this.start(draft);
  }

  view(): FinalizeView {
    const steps = setupStatus(this.db);
    const complete = steps.every((s) => s.status === "done");
    return { running: this.running, error: this.error, complete, steps, progress: { ...this.progress } };
  }

  /** Resolves at the next change of the run (a step's state or progress line), or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private run(setup: ReturnType<typeof toSetupFile>): void {
    this.running = true;
    this.error = null;
    this.progress = {};
    this.notify();
    void (async () => {
      try {
        const ctx = await prepareSetup(paths.wizardSetupFile, { db: this.db, agent: this.agent, setup });
        await runSetup(ctx, {
          onProgress: (step, _status, detail) => {
            if (detail && detail !== "already done") this.progress[step] = detail;
            this.notify();
          },
        });
        // The deployer key and the signature now live in /etc/blockhost (root:blockhost); drop the wizard's copies.
        for (const name of ["wizard-deployer.key", "wizard-admin.sig"]) rmSync(paths.state(name), { force: true });
      } catch (e) {
        this.error = oneLine(e);
      } finally {
        this.running = false;
        this.notify();
      }
    })();
  }
}
