/** The admin's client address in /run/blockhost/knock.active: the engine narrows an open knock to it (as the original). */
import { writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { oneLine } from "../../../core/errors.ts";
import { logEvent } from "../../../core/log.ts";
import { paths } from "../../../core/paths.ts";

let warned = false;

/** An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; the firewall rule must be the IPv4 one. */
export function plainAddress(address: string): string | null {
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  return isIP(ip) ? ip : null;
}

/**
 * Written on every authenticated admin request. The file is created by systemd-tmpfiles for the
 * blockhost user (/run/blockhost itself is root's); failing to write it never fails the request.
 */
export function touchKnockActive(address: string): void {
  const ip = plainAddress(address);
  if (!ip) return;
  try {
    writeFileSync(paths.knockActive, `${ip}\n`, { mode: 0o640 });
  } catch (e) {
    if (!warned) logEvent("admin.knock_active_unwritable", { file: paths.knockActive, error: oneLine(e) });
    warned = true;
  }
}
