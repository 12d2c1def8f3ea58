/** One log line per in-VM login attempt. */
import { existsSync, writeSync } from "node:fs";

/**
 * One syslog-style line per login attempt: to stderr (the test harness and `pam_exec log=`
 * see it) and to syslog (auth facility, tag `blockhost-pam`) when the system has one.
 * Fields are user names, addresses and fixed reason words: nothing secret.
 */
export function authLog(fields: Record<string, string | number | undefined>): void {
  const line = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${String(v).replace(/[^\x21-\x7e]/g, "?")}`)
    .join(" ");
  // writeSync: process.stderr would cost the login helper its stream set-up (see core/stdio.ts).
  writeSync(2, `blockhost-pam: ${line}\n`);
  if (existsSync("/dev/log") && existsSync("/usr/bin/logger")) {
    Bun.spawnSync(["/usr/bin/logger", "-t", "blockhost-pam", "-p", "authpriv.notice", "--", line], {
      stdout: "ignore",
      stderr: "ignore",
      timeout: 2000,
      env: {},
    });
  }
}
