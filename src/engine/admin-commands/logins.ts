// Who logged in since a knock opened: sshd's "Accepted …" lines (auth log or journal) and the admin panel's knock.active file.
import { closeSync, existsSync, openSync, readSync, readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { paths } from "../../core/paths.ts";

const ACCEPTED = /Accepted \S+ for \S+ from ([0-9a-fA-F:.]{2,45}) port \d+/;
const JOURNALCTL = "/usr/bin/journalctl";
/** At most this much of the auth log is read per poll (a burst of log lines cannot stall the engine). */
const MAX_READ = 1 << 20;

export interface LoginCheck {
  /** The first address that logged in, if any. */
  ip: string | null;
  /** Where to continue reading next time (byte offset in the auth log). */
  cursor: number;
}

export function sshLoginFrom(line: string): string | null {
  const m = ACCEPTED.exec(line);
  return m && isIP(m[1]!) ? m[1]! : null;
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
    const ip = sshLoginFrom(line);
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
      "cat",
      "-t",
      "sshd",
      "-t",
      "sshd-session",
      "--since",
      `@${Math.floor(sinceMs / 1000)}`,
    ],
    {
      stdout: "pipe",
      stderr: "ignore",
      env: { PATH: "/usr/bin:/bin", LANG: "C" },
    },
  );
  if (r.exitCode !== 0) return null;
  for (const line of r.stdout.toString().split("\n")) {
    const ip = sshLoginFrom(line);
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
