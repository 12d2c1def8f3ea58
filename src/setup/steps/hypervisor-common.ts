/** What the `backend` and `template` steps ask of a hypervisor, and the bridge check every backend shares. */
import { existsSync } from "node:fs";
import { BlockhostError } from "../../core/errors.ts";
import type { SetupContext } from "../context.ts";

/** What the hypervisor checks need of a finalization context (the wizard's check button has no more). */
export type HypervisorContext = Pick<SetupContext, "fileName" | "agent" | "say">;

export interface HypervisorSetup {
  /** Bridge/storage prerequisites; throws a one-line error naming what is missing. */
  check(ctx: HypervisorContext): Promise<Record<string, unknown>>;
  /** Build or import the VM template when the backend needs one and it is missing. */
  ensureTemplate(ctx: HypervisorContext): Promise<Record<string, unknown>>;
}

/** A host network interface exists (read from sysfs: no privilege needed). */
export function requireBridge(ctx: HypervisorContext, key: string, bridge: string): void {
  if (!existsSync(`/sys/class/net/${bridge}`)) {
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `${ctx.fileName}: ${key}: no network interface named ${bridge} on this host`,
    );
  }
}
