/** One `blockhost doctor` check's result, and helpers to build them. */

/** ok, fail (with a fix), or skip (cannot be checked here, and why). */
export interface CheckResult {
  name: string;
  status: "ok" | "fail" | "skip";
  detail: string;
  /** What to do about a failure (null when ok or skipped). */
  fix: string | null;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: "ok", detail, fix: null });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "fail", detail, fix });
export const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail, fix: null });
