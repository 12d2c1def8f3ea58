/** An ActionContext for calling agent action handlers directly. */
import { ACTIONS } from "../../src/agent/actions/index.ts";
import type { ActionContext, ActionResult } from "../../src/agent/actions/types.ts";
import { DEFAULT_BINARIES, type BinaryTable } from "../../src/agent/binaries.ts";
import { createRunner } from "../../src/agent/run.ts";
import { enforceScope } from "../../src/agent/scope.ts";
import { scopeProbe } from "../../src/agent/scope-probe.ts";

/**
 * Run one agent action in-process the way the server does (schema parse, then the handler with
 * a real command runner, after the same scope rules), with some binaries pointed elsewhere (a
 * simulator, a netns wrapper).
 */
export function actionRunner(binaries: Partial<BinaryTable>) {
  const table: BinaryTable = { ...DEFAULT_BINARIES, ...binaries };
  return async (name: string, params: unknown): Promise<ActionResult> => {
    const action = ACTIONS.get(name);
    if (!action) throw new Error(`no action ${name}`);
    const parsed = action.params.parse(params, "params");
    const signal = AbortSignal.timeout(action.timeoutMs);
    const ctx: ActionContext = { peer: { pid: process.pid, uid: 0, gid: 0 }, signal, run: createRunner(table, signal) };
    await enforceScope(name, parsed, scopeProbe(ctx));
    return action.handler(parsed, ctx);
  };
}
