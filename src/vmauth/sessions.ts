/** Pending login attempts and signatures handed over by the signing page. */
import { lstatSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../core/fs.ts";
import { BlockhostError } from "../core/errors.ts";
import { paths } from "../core/paths.ts";
import { int, object, str, bool, type Infer } from "../core/schema.ts";
import { USER_NAME_RE } from "./user.ts";

export const SESSION_ID_RE = /^[0-9a-f]{32}$/;
/** A raw EIP-191 signature: r ‖ s ‖ v, 65 bytes. */
export const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;
const ATTEMPT_KEY_RE = /^\d{1,10}-\d{1,20}$/;
/**
 * How long a used-code record outlives the code's expiry. The signed text names that expiry and
 * verify refuses a code past it, so a record is needed only until then; it lives on disk
 * (/var/lib), so a reboot inside that window forgets nothing. The margin covers clock steps.
 */
export const USED_RETENTION_MARGIN_SECONDS = 24 * 3600;

/** What challenge leaves for verify; only root can read it. */
export const attemptSchema = object({
  session_id: str(SESSION_ID_RE, "a 32-hex session id", 32),
  user: str(USER_NAME_RE, "a user name", 33),
  otp: str(/^\d{4,19}$/, "a numeric code", 19),
  created_at: int(0, 2 ** 40),
  tag: str(/^[0-9a-f]{64}$/, "a 64-hex tag", 64),
  callback: bool,
});
export type Attempt = Infer<typeof attemptSchema>;

/**
 * Identify one PAM conversation: pam_exec forks both `challenge` and `verify` from the process
 * that runs pam_authenticate, so their parent (pid + start time, which survives pid reuse) is
 * the same for the pair and different for every concurrent login.
 */
export function attemptKey(ppid = process.ppid): string {
  const stat = readFileSync(`/proc/${ppid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const start = fields[19];
  if (!start || !/^\d+$/.test(start)) throw new BlockhostError("E_STATE", `cannot read start time of process ${ppid}`);
  return `${ppid}-${start}`;
}

function ensurePrivateDir(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true, mode: dir === paths.pamUsedDir ? 0o700 : 0o755 });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new BlockhostError("E_IO", `${dir} is not a plain directory`);
}

const attemptFile = (key: string) => {
  if (!ATTEMPT_KEY_RE.test(key)) throw new BlockhostError("E_INTERNAL", "bad attempt key");
  return join(paths.pamAttemptsDir, `${key}.json`);
};

export function writeAttempt(key: string, attempt: Attempt): void {
  ensurePrivateDir(paths.pamAttemptsDir);
  writeFileAtomic(attemptFile(key), JSON.stringify(attempt), { mode: 0o600 });
}

/** Read this conversation's attempt and delete it, so it can be used once; null when there is none. */
export function takeAttempt(key: string): Attempt | null {
  const file = attemptFile(key);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  return attemptSchema.parse(JSON.parse(text), "attempt");
}

/** Whether the signing page's callback directory exists (created by tmpfiles in the VM). */
export function callbackEnabled(): boolean {
  try {
    return lstatSync(paths.pamPendingDir).isDirectory();
  } catch {
    return false;
  }
}

const pendingFile = (id: string, ext: "json" | "sig") => {
  if (!SESSION_ID_RE.test(id)) throw new BlockhostError("E_INVALID_INPUT", "bad session id");
  return join(paths.pamPendingDir, `${id}.${ext}`);
};

/** The public half of a session: what the signing page shows (no secret, no user name). */
export const pendingSchema = object({
  otp: str(/^\d{4,19}$/, "a numeric code", 19),
  machine_id: str(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a machine id", 64),
  session_id: str(SESSION_ID_RE, "a 32-hex session id", 32),
  /** Unix seconds after which the code no longer verifies (part of the signed text). */
  expires_at: int(0, 2 ** 40),
});
export type PendingSession = Infer<typeof pendingSchema>;

export function writePending(session: PendingSession): void {
  writeFileAtomic(pendingFile(session.session_id, "json"), JSON.stringify(session), { mode: 0o600 });
}

/** The pending session `id`, or null when there is none (or it is not one PAM wrote for that id). */
export function readPending(id: string): PendingSession | null {
  try {
    const session = pendingSchema.parse(JSON.parse(readFileSync(pendingFile(id, "json"), "utf8")), "pending");
    return session.session_id === id ? session : null;
  } catch {
    return null;
  }
}

/** The signature the signing page stored for this session, if any. */
export function readCallbackSignature(id: string): string | null {
  try {
    return readFileSync(pendingFile(id, "sig"), "utf8").trim();
  } catch {
    return null;
  }
}

/** Store a callback signature; false when one is already there (first writer wins). */
export function writeCallbackSignature(id: string, signature: string): boolean {
  try {
    writeFileAtomic(pendingFile(id, "sig"), signature, { mode: 0o600, noClobber: true });
    return true;
  } catch (e) {
    if (e instanceof BlockhostError && e.code === "E_CONFLICT") return false;
    throw e;
  }
}

export function removeSession(id: string): void {
  for (const ext of ["json", "sig"] as const) {
    try {
      unlinkSync(pendingFile(id, ext));
    } catch {
      /* already gone */
    }
  }
}

/** Record a code as used; false if it already was (a replay). */
export function markUsed(name: string): boolean {
  ensurePrivateDir(paths.pamUsedDir);
  try {
    closeSync(openSync(join(paths.pamUsedDir, name), "wx", 0o600));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

export function isUsed(name: string): boolean {
  try {
    lstatSync(join(paths.pamUsedDir, name));
    return true;
  } catch {
    return false;
  }
}

/** Drop attempts abandoned before verify (and their sessions) and used records past their code's expiry. */
export function pruneStale(nowSeconds: number, attemptMaxAgeSeconds: number, otpTtlSeconds: number): void {
  const sweep = (dir: string, maxAge: number, onRemove?: (file: string) => void) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const file = join(dir, name);
      try {
        if (nowSeconds - statSync(file).mtimeMs / 1000 <= maxAge) continue;
        onRemove?.(file);
        unlinkSync(file);
      } catch {
        /* raced with another login */
      }
    }
  };
  sweep(paths.pamAttemptsDir, attemptMaxAgeSeconds, (file) => {
    try {
      const id = (JSON.parse(readFileSync(file, "utf8")) as { session_id?: unknown }).session_id;
      if (typeof id === "string" && SESSION_ID_RE.test(id)) removeSession(id);
    } catch {
      /* unreadable: just delete it */
    }
  });
  sweep(paths.pamUsedDir, otpTtlSeconds + USED_RETENTION_MARGIN_SECONDS);
}
