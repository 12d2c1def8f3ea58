// Checks each transaction of a scanned block against the admin-command rules and runs the accepted ones.
import type { Database } from "bun:sqlite";
import { oneLine } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { claimNonce, pruneNonces } from "../../core/state/admin-commands.ts";
import type { KnockManager } from "./knock.ts";
import { type AdminPayload, decodeAdminCommand } from "./payload.ts";
import type { ScanTx } from "./scanner.ts";
import { MAX_FUTURE_SECONDS, type AdminSettings } from "./settings.ts";

export interface CommandContext {
  db: Database;
  settings: AdminSettings;
  serverKey: Uint8Array;
  knocks: KnockManager;
  nowSeconds?: () => number;
}

const ignored = (tx: ScanTx, reason: string, fields: Record<string, unknown> = {}) =>
  logEvent("admin.command_ignored", { tx: tx.hash, block: Number(tx.blockNumber), reason, ...fields });

/** Run every admin command found in `txs`; anything else is skipped, and each refusal is one log line. */
export async function processTransactions(ctx: CommandContext, txs: readonly ScanTx[]): Promise<void> {
  const now = ctx.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
  pruneNonces(ctx.db, now - ctx.settings.maxAgeSeconds - MAX_FUTURE_SECONDS);
  for (const tx of txs) await processOne(ctx, tx, now);
}

async function processOne(ctx: CommandContext, tx: ScanTx, now: number): Promise<void> {
  const s = ctx.settings;
  if (tx.input.length < 10) return;
  const toDestination = s.destination === null || tx.to?.toLowerCase() === s.destination.toLowerCase();
  if (tx.from.toLowerCase() !== s.wallet.toLowerCase()) {
    // Only a transaction shaped like a command is worth a line; other traffic is not ours to log.
    if (s.destination !== null && toDestination) ignored(tx, "wrong_sender", { from: tx.from });
    return;
  }
  if (!toDestination) return;
  let payload: AdminPayload;
  try {
    payload = decodeAdminCommand(ctx.serverKey, tx.input);
  } catch (e) {
    return ignored(tx, (e as { code?: string }).code === "E_CRYPTO" ? "undecryptable" : "malformed", {
      error: oneLine(e),
    });
  }
  const age = now - payload.timestamp;
  if (age > s.maxAgeSeconds) return ignored(tx, "expired", { age_s: age, max_age_s: s.maxAgeSeconds });
  if (-age > MAX_FUTURE_SECONDS) return ignored(tx, "future", { ahead_s: -age });
  if (!claimNonce(ctx.db, payload.nonce, payload.timestamp, tx.hash, now))
    return ignored(tx, "replayed", { nonce: payload.nonce });
  const def = Object.hasOwn(s.commands, payload.command) ? s.commands[payload.command] : undefined;
  // The command's name is the operator's secret: never logged.
  if (!def) return ignored(tx, "unknown_command");
  try {
    if (def.action === "knock") await ctx.knocks.open(tx.hash, payload.command, def, payload.params ?? {});
    logEvent("admin.command_run", { tx: tx.hash, action: def.action });
  } catch (e) {
    logEvent("admin.command_failed", { tx: tx.hash, action: def.action, error: oneLine(e) });
  }
}
