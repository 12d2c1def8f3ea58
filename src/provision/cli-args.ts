/** Parse the vm commands' numeric and date options. */
import { BlockhostError } from "../core/errors.ts";
import { addressArg } from "../core/address.ts";
import { DNS_NAME_RE, VM_NAME_RE } from "../core/validators.ts";
import { DAY_MS, now } from "../core/clock.ts";

const usage = (message: string) => new BlockhostError("E_USAGE", message);

/** A CLI integer option within [min, max]. */
export function intOption(value: string | undefined, flag: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max)
    throw usage(`--${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function vmNameArg(value: string | undefined): string {
  if (!value || !VM_NAME_RE.test(value))
    throw usage(
      `VM name: expected letters, digits, . _ - (starting alphanumeric, ≤64), got ${JSON.stringify(value ?? "")}`,
    );
  return value;
}

/**
 * The name of a VM to create: it becomes the guest's hostname and the Proxmox VM name, so it must be a
 * DNS name (Proxmox refuses `web_1`, `web-`, `a..b` only after the VMID is spent).
 */
export function newVmNameArg(value: string | undefined): string {
  if (!value || !DNS_NAME_RE.test(value)) {
    throw usage(
      `VM name: expected a DNS name (letters, digits and inner -, dot-separated labels, ≤64), got ${JSON.stringify(value ?? "")}`,
    );
  }
  return value;
}

export function walletArg(value: string | undefined): string {
  addressArg(value, "--owner-wallet");
  return value as string;
}

/**
 * --expires-at ISO or --expiry-days N (not both), checked at once (before any config or state is opened);
 * the expiry itself once the default (db.yaml's `default_expiry_days`, used when neither is given) is known.
 */
export function expiryChoice(
  expiresAt: string | undefined,
  expiryDays: string | undefined,
): (defaultDays: number) => Date {
  if (expiresAt !== undefined && expiryDays !== undefined) throw usage("give --expires-at or --expiry-days, not both");
  if (expiresAt !== undefined) {
    const t = Date.parse(expiresAt);
    if (!/^\d{4}-\d{2}-\d{2}/.test(expiresAt) || Number.isNaN(t))
      throw usage(
        `--expires-at: expected an ISO-8601 time like 2026-12-31T00:00:00Z, got ${JSON.stringify(expiresAt)}`,
      );
    return () => new Date(t);
  }
  const days = expiryDays === undefined ? undefined : intOption(expiryDays, "expiry-days", 1, 36_500, 0);
  return (defaultDays) => new Date(now().getTime() + (days ?? defaultDays) * DAY_MS);
}

/** An optional integer option, checked now; `undefined` when absent (its default comes from a config). */
export function optionalInt(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  return value === undefined ? undefined : intOption(value, flag, min, max, min);
}
