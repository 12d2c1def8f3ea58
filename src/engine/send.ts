/**
 * Wallet sends the admin panel asks for, run by the engine as `send` jobs: one transaction per
 * idempotency key however often the job runs (chain/send-once.ts), so a request that timed out and
 * was retried, or an engine that crashed mid-send, never pays twice.
 */
import { encodeFunctionData, erc20Abi, type Hex, isAddressEqual } from "viem";
import { loadKeyFile } from "../crypto/keyfile.ts";
import { sendOnce } from "../chain/send-once.ts";
import { loadAddressbook } from "../core/config/addressbook.ts";
import { BlockhostError } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import type { EngineContext } from "./context.ts";

/** What the panel puts in a `send` job (amount in base units, as a decimal string). */
export interface SendPayload {
  from_role: string;
  from_address: Hex;
  to: Hex;
  /** "eth" or the ERC20 token's address. */
  token: "eth" | Hex;
  units: string;
  /** The wallet of the admin who asked (for the log). */
  admin: string;
}

/** The job key of a send: one per idempotency key the page generated. */
export const sendJobKey = (idempotencyKey: string) => `send:${idempotencyKey}`;
/** The nonce-ledger purpose its transaction is recorded under (the tx hash is looked up by it). */
export const sendPurpose = (jobKey: string) => `admin-${jobKey}`;

export async function runSend(ctx: EngineContext, jobKey: string, p: SendPayload): Promise<void> {
  const entry = Object.hasOwn(loadAddressbook(), p.from_role) ? loadAddressbook()[p.from_role] : undefined;
  if (!entry?.keyfile || !isAddressEqual(entry.address as Hex, p.from_address))
    throw new BlockhostError("E_CONFLICT", `"${p.from_role}" no longer has the key of ${p.from_address}`);
  const account = loadKeyFile(entry.keyfile, `key file of "${p.from_role}"`);
  const units = BigInt(p.units);
  const req =
    p.token === "eth"
      ? { to: p.to, value: units }
      : { to: p.token, data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [p.to, units] }) };
  const doing = `send from ${p.from_role} to ${p.to}`;
  const receipt = await sendOnce(
    ctx.access,
    { db: ctx.db, chainId: ctx.settings.chainId },
    sendPurpose(jobKey),
    account,
    req,
    doing,
  );
  logEvent("engine.send_done", {
    job: jobKey,
    tx: receipt.transactionHash,
    admin: p.admin,
    token: p.token,
    units: p.units,
  });
}
