/** The finalization runner shared by `blockhost finalize` and the wizard: prepare a context, run pending steps in order. */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { AgentClient } from "../agent/client.ts";
import { connectChain } from "../chain/client.ts";
import { BlockhostError, oneLine } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import { paths } from "../core/paths.ts";
import { openDatabase } from "../core/state/db.ts";
import {
  acquireSetupLock,
  getStep,
  listSteps,
  markStepDone,
  markStepFailed,
  markStepRunning,
  releaseSetupLock,
  resetSteps,
  type StepStatus,
} from "../core/state/setup.ts";
import { crashPoint, type SetupContext } from "./context.ts";
import { adminSignature, checkChainId, loadSetupFile, stablecoinOf } from "./load.ts";
import type { SetupFile } from "./schema.ts";
import { STEP_NAMES, STEPS } from "./steps/index.ts";

/** Validate a setup file completely (schema, signature, stablecoin, chain id) and open what the steps need. */
export async function prepareSetup(
  fileName: string,
  opts: { db?: Database; agent?: AgentClient; setup?: SetupFile } = {},
): Promise<SetupContext> {
  const file = opts.setup ?? loadSetupFile(fileName);
  const signature = await adminSignature(fileName, file);
  const stablecoin = stablecoinOf(fileName, file);
  const access = connectChain({
    blockchain: { chain_id: file.chain.chain_id, rpc_url: file.chain.rpc_url },
    auth: { otp_length: 6, otp_ttl_seconds: 300 },
  });
  await checkChainId(fileName, file, access);
  return {
    file,
    fileName,
    db: opts.db ?? openDatabase(),
    agent: opts.agent ?? new AgentClient(),
    access,
    adminSignature: signature,
    stablecoin,
  };
}

export interface StepView {
  step: string;
  title: string;
  status: StepStatus;
  error: string | null;
  attempts: number;
  completed_at: string | null;
  result: Record<string, unknown>;
}

/** Every step in run order with its recorded state (pending when never run). */
export function setupStatus(db: Database): StepView[] {
  const records = new Map(listSteps(db).map((r) => [r.step, r]));
  return STEPS.map((s) => {
    const r = records.get(s.name);
    return {
      step: s.name,
      title: s.title,
      status: r?.status ?? "pending",
      error: r?.error ?? null,
      attempts: r?.attempts ?? 0,
      completed_at: r?.completed_at ?? null,
      result: r?.result ?? {},
    };
  });
}

export function checkStepName(name: string): void {
  if (!STEP_NAMES.includes(name))
    throw new BlockhostError("E_USAGE", `unknown step "${name}" (steps: ${STEP_NAMES.join(", ")})`);
}

/** Run `work` holding the finalization lock (E_CONFLICT while another live process runs finalization). */
function withLock<T>(db: Database, work: () => T): T {
  const holder = acquireSetupLock(db, process.pid);
  if (holder !== undefined) throw new BlockhostError("E_CONFLICT", `finalization is already running (pid ${holder})`);
  const release = () => releaseSetupLock(db, process.pid);
  let result: T;
  try {
    result = work();
  } catch (e) {
    release();
    throw e;
  }
  // An async run keeps the lock until it settles.
  if (result instanceof Promise) return result.finally(release) as T;
  release();
  return result;
}

/** Mark a step pending again so the next run repeats it (a completed step is skipped otherwise). */
export function retryStep(db: Database, name: string): void {
  checkStepName(name);
  withLock(db, () => resetSteps(db, [name]));
}

/** Every step pending again; recorded chain transactions are kept, so nothing is deployed or minted twice. */
export function resetAll(db: Database): void {
  if (existsSync(paths.setupComplete))
    throw new BlockhostError("E_SETUP_COMPLETE", "setup is complete: finalization can no longer be reset");
  withLock(db, () => resetSteps(db, STEP_NAMES));
}

export type ProgressListener = (step: string, status: StepStatus, detail?: string) => void;

/**
 * Run every step that is not done, in order; stop at the first failure (recorded with its one-line
 * error, then rethrown). A step left `running` by a crash is simply run again: each is idempotent.
 */
export async function runSetup(
  ctx: SetupContext,
  opts: { onProgress?: ProgressListener; journal?: boolean } = {},
): Promise<void> {
  await withLock(ctx.db, () =>
    runSteps(ctx, opts.journal === false ? () => {} : logEvent, opts.onProgress ?? (() => {})),
  );
}

async function runSteps(ctx: SetupContext, journal: typeof logEvent, onProgress: ProgressListener): Promise<void> {
  if (existsSync(paths.setupComplete)) {
    const open = setupStatus(ctx.db).filter((s) => s.status !== "done" && s.step !== "complete");
    if (open.length > 0)
      throw new BlockhostError("E_SETUP_COMPLETE", `setup is complete: step ${open[0]!.step} can no longer run`);
  }
  for (const step of STEPS) {
    if (getStep(ctx.db, step.name)?.status === "done") {
      onProgress(step.name, "done", "already done");
      continue;
    }
    markStepRunning(ctx.db, step.name);
    onProgress(step.name, "running");
    journal("setup.step", { step: step.name, status: "running" });
    crashPoint(`${step.name}:start`);
    let result: Record<string, unknown>;
    try {
      result = await step.run({ ...ctx, say: (line) => onProgress(step.name, "running", line) });
    } catch (e) {
      const line = oneLine(e);
      markStepFailed(ctx.db, step.name, line);
      journal("setup.step", { step: step.name, status: "failed", error: line });
      onProgress(step.name, "failed", line);
      throw e instanceof BlockhostError
        ? e
        : new BlockhostError("E_INTERNAL", `step ${step.name}: ${line}`, {}, { cause: e });
    }
    crashPoint(`${step.name}:before-record`);
    markStepDone(ctx.db, step.name, result);
    journal("setup.step", { step: step.name, status: "done" });
    onProgress(step.name, "done");
  }
}
