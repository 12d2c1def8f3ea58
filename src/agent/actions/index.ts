import type { ActionDef } from "./types.ts";
import * as system from "./system.ts";

/** The closed table of agent actions. Each family module exports its ActionDefs. */
const families: Array<Record<string, unknown>> = [system];

export const ACTIONS: ReadonlyMap<string, ActionDef> = new Map(
  families.flatMap((f) => Object.values(f)).filter(isAction).map((a) => [a.name, a]),
);

function isAction(v: unknown): v is ActionDef {
  return typeof v === "object" && v !== null && "name" in v && "handler" in v && "params" in v;
}
