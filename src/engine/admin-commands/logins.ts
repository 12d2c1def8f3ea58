// Who logged in since a knock opened: sshd's own "Accepted …" records (auth log or journal) and the admin panel's knock.active file.
import { closeSync, existsSync, openSync, readSync, readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { paths } from "../../core/paths.ts";

/**
 * sshd's success message, matched over the WHOLE message: sshd logs client-chosen user names inside
 * other messages ("Invalid user <name> from …"), so text that merely contains this must never count.
 */
const ACCEPTED_MESSAGE =
  /^Accepted [a-z0-9/-]{1,40} for [^\s]{1,100} from ([0-9a-fA-F:.]{2,45}) port \d{1,5} ssh2(?:: .*)?$/;
/** The programs that log sshd's "Accepted" (OpenSSH ≥ 9.8 splits sessions out of sshd). */
const SSHD_PROGRAMS = ["sshd", "sshd-session", "sshd-auth"] as const;
/**
 * A syslog line as rsyslog writes it (traditional or RFC 3339 timestamp, host, `sshd[pid]: `),
 * anchored so the program field is sshd's own and the message starts right after it.
 */
const SYSLOG_LINE =
  /^(?:[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) \S+ (sshd|sshd-session|sshd-auth)\[\d+\]: (.*)$/;
const JOURNALCTL = "/usr/bin/journalctl";
/** At most this much of the auth log is read per poll (a burst of log lines cannot stall the engine). */
const MAX_READ = 1 << 20;

export interface LoginCheck {
  /** The first address that logged in, if any. */
  ip: string | null;
  /** Where to continue reading next time (byte offset in the auth log). */
  cursor: number;
}

/** The client address of one sshd message (the MESSAGE alone, no syslog prefix), or null. */
export function sshLoginFrom(message: string): string | null {
  const m = ACCEPTED_MESSAGE.exec(message);
  return m && isIP(m[1]!) ? m[1]! : null;
}

/** The client address of one auth-log line written by sshd itself, or null for any other line. */
export function sshLoginFromSyslog(line: string): string | null {
  const m = SYSLOG_LINE.exec(line);
  return m ? sshLoginFrom(m[2]!) : null;
}

/**
 * The client address of one `journalctl -o json` record: only when journald itself saw an sshd
 * process write it (`_COMM`, a trusted field that the logging process cannot set, unlike
 * SYSLOG_IDENTIFIER) and its MESSAGE is sshd's success message.
 */
export function sshLoginFromJournal(json: string): string | null {
  let record: { _COMM?: unknown; MESSAGE?: unknown };
  try {
    record = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof record !== "object" || record === null) return null;
  if (!SSHD_PROGRAMS.includes(record._COMM as (typeof SSHD_PROGRAMS)[number])) return null;
  // journald writes a MESSAGE that is not valid UTF-8 as an array of bytes.
  const message = Array.isArray(record.MESSAGE)
    ? Buffer.from(record.MESSAGE.filter((b): b is number => typeof b === "number")).toString("latin1")
    : record.MESSAGE;
  return typeof message === "string" ? sshLoginFrom(message) : null;
}

/** The auth log's current size: a new knock reads only lines written after it opened. */
export function loginLogStart(setting: string): number {
  const file = logFile(setting);
  return file && existsSync(file) ? statSync(file).size : 0;
}

function logFile(setting: string): string | null {
  if (setting === "journal") return null;
  if (setting !== "auto") return setting;
  return existsSync(paths.authLog) ? paths.authLog : null;
}

function fromFile(file: string, cursor: number): LoginCheck {
  if (!existsSync(file)) return { ip: null, cursor };
  const size = statSync(file).size;
  const start = size < cursor ? 0 : cursor; // rotated: start over
  const length = Math.min(size - start, MAX_READ);
  if (length <= 0) return { ip: null, cursor: start };
  const buf = Buffer.alloc(length);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, length, start);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString("utf8");
  const complete = text.lastIndexOf("\n") + 1; // a half-written line is read again next time
  for (const line of text.slice(0, complete).split("\n")) {
    const ip = sshLoginFromSyslog(line);
    if (ip) return { ip, cursor: start + complete };
  }
  return { ip: null, cursor: start + complete };
}

function fromJournal(sinceMs: number): string | null {
  if (!existsSync(JOURNALCTL)) return null;
  const r = Bun.spawnSync(
    [
      JOURNALCTL,
      "-q",
      "--no-pager",
      "-o",
      "json",
      "--output-fields=MESSAGE,_COMM",
      "--since",
      `@${Math.floor(sinceMs / 1000)}`,
      ...SSHD_PROGRAMS.map((p) => `_COMM=${p}`),
    ],
    {
      stdout: "pipe",
      stderr: "ignore",
      env: { PATH: "/usr/bin:/bin", LANG: "C" },
    },
  );
  if (r.exitCode !== 0) return null;
  for (const line of r.stdout.toString().split("\n")) {
    const ip = sshLoginFromJournal(line);
    if (ip) return ip;
  }
  return null;
}

/** The admin panel's client address, when it was written after the knock opened. */
function fromPanel(sinceMs: number): string | null {
  try {
    if (statSync(paths.knockActive).mtimeMs < sinceMs) return null;
    const ip = readFileSync(paths.knockActive, "utf8").trim();
    return isIP(ip) ? ip : null;
  } catch {
    return null;
  }
}

/** Check the admin panel file, then sshd's log (only when the knock includes an SSH port). */
export function checkLogin(setting: string, openedAt: number, cursor: number, ssh: boolean): LoginCheck {
  const panel = fromPanel(openedAt);
  if (panel) return { ip: panel, cursor };
  if (!ssh) return { ip: null, cursor };
  const file = logFile(setting);
  if (file) return fromFile(file, cursor);
  return { ip: fromJournal(openedAt), cursor };
}
