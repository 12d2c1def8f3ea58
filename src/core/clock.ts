/** The clock lifecycle decisions read (BLOCKHOST_NOW overrides it), and the timestamp format. */
import { BlockhostError } from "./errors.ts";

/**
 * The current time for lifecycle decisions (expiry, grace periods). BLOCKHOST_NOW (ISO-8601 or
 * unix seconds) overrides the wall clock so tests and operators can ask "what would gc do then?".
 */
export function now(): Date {
  const fixed = process.env.BLOCKHOST_NOW;
  if (!fixed) return new Date();
  const d = /^\d+$/.test(fixed) ? new Date(Number(fixed) * 1000) : new Date(fixed);
  if (Number.isNaN(d.getTime()))
    throw new BlockhostError(
      "E_CONFIG_INVALID",
      `BLOCKHOST_NOW: expected an ISO-8601 time or unix seconds, got ${JSON.stringify(fixed)}`,
    );
  return d;
}

/** ISO-8601 UTC without milliseconds, the form vms.json used. */
export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export const DAY_MS = 86_400_000;
