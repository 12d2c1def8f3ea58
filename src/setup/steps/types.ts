/** A finalization step: a name and an idempotent action that checks whether its work is done first. */
import { readFileSync } from "node:fs";
import type { CONFIG_FILES } from "../../agent/actions/config.ts";
import { paths } from "../../core/paths.ts";
import type { SetupContext } from "../context.ts";

export interface SetupStep {
  readonly name: string;
  /** One line for status screens. */
  readonly title: string;
  /** Do the step's work unless it is already done; the returned result is recorded with the step. */
  run(ctx: SetupContext): Promise<Record<string, unknown>>;
}

export type ConfigFileName = keyof typeof CONFIG_FILES;

/** Write a config file through the agent unless it already has exactly this content. Returns whether it wrote. */
export async function writeConfig(ctx: SetupContext, file: ConfigFileName, content: string): Promise<boolean> {
  try {
    if (readFileSync(paths.config(file), "utf8") === content) return false;
  } catch {
    /* absent or unreadable: write it */
  }
  await ctx.agent.call("config-write", { file, content });
  return true;
}
