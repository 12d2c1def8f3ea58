/** The undo list a backend's create keeps: each completed step registers how to take it back. */
import { oneLine } from "../../core/errors.ts";
import type { Say } from "./types.ts";

/** A step's name (for the log) and how to undo it. */
export type UndoSteps = Array<[string, () => Promise<unknown>]>;

/**
 * After a failed create of `name`: run the undo steps newest first. A failing undo step is logged and
 * the rest still run, so one stuck step does not leave the others behind.
 */
export async function rollBack(name: string, error: unknown, undo: UndoSteps, say: Say): Promise<void> {
  say(`create of ${name} failed (${oneLine(error)}); rolling back`);
  for (const [what, step] of undo.reverse()) {
    try {
      await step();
    } catch (u) {
      say(`rollback step ${what} failed: ${oneLine(u)}`);
    }
  }
}
