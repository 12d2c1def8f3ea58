/** What every finalization step works with: the validated setup file, the database, the agent and the chain. */
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import type { AgentClient } from "../agent/client.ts";
import type { ChainAccess } from "../chain/client.ts";
import { loadKeyFile } from "../crypto/keyfile.ts";
import { paths } from "../core/paths.ts";
import { getStep } from "../core/state/setup.ts";
import type { SetupFile } from "./schema.ts";

export interface SetupContext {
  readonly file: SetupFile;
  /** Where the setup file came from (for messages). */
  readonly fileName: string;
  readonly db: Database;
  readonly agent: AgentClient;
  readonly access: ChainAccess;
  /** The admin's EIP-191 signature of the public secret (already checked to recover to admin.wallet). */
  readonly adminSignature: Hex;
  /** The primary stablecoin: chain.stablecoin or the chain's known USDC. */
  readonly stablecoin: Hex;
  /** Progress lines of the running step (the wizard shows them); absent outside a run. */
  readonly say?: (line: string) => void;
}

/** The result a completed step recorded (empty when it has not completed). */
export function resultOf(ctx: SetupContext, step: string): Record<string, unknown> {
  return getStep(ctx.db, step)?.result ?? {};
}

/** The deployer wallet, from the key file the `wallet` step installed. */
export function deployerAccount(): PrivateKeyAccount {
  return loadKeyFile(paths.deployerKey, "deployer key file");
}

/**
 * Fault injection for the crash tests: when BLOCKHOST_SETUP_CRASH_AT names this point, the
 * process SIGKILLs itself here, as a power cut would. Unset in production, where it does nothing.
 */
export function crashPoint(name: string): void {
  if (process.env.BLOCKHOST_SETUP_CRASH_AT === name) process.kill(process.pid, "SIGKILL");
}
