/** serve's certificate keeper: check at start and twice a day, record the outcome, swap the listener on change. */
import type { Database } from "bun:sqlite";
import { oneLine } from "../core/errors.ts";
import { logEvent } from "../core/log.ts";
import {
  type CertificateOutcome,
  type CertificatePlan,
  ensureServeCertificate,
  recordCertificateStatus,
  type TlsFiles,
} from "./certificates.ts";

/** How often serve re-checks its certificate (renewal starts 30 days before expiry). */
export const CHECK_INTERVAL_MS = 12 * 60 * 60 * 1000;

export interface CertificateKeeper {
  /** Run one check now (also what the timer runs); resolves with its outcome. */
  check(): Promise<CertificateOutcome>;
  stop(): void;
}

/**
 * Keep serve's certificate: `plan(current)` describes the order from the files in use; each
 * outcome is recorded for `blockhost status`, and `apply(files)` runs when the files changed.
 */
export function keepCertificate(
  db: Database,
  plan: (current: CertificatePlan["current"]) => CertificatePlan,
  initial: CertificatePlan["current"],
  apply: (files: TlsFiles) => void,
  intervalMs = CHECK_INTERVAL_MS,
): CertificateKeeper {
  let current = initial;
  let running: Promise<CertificateOutcome> | null = null;
  const check = () => {
    running ??= (async () => {
      try {
        const out = await ensureServeCertificate(plan(current));
        recordCertificateStatus(db, out.status);
        if (out.changed) {
          current = { ...out.files, acme: !out.status.self_signed };
          apply(out.files);
        }
        logEvent("serve.certificate", {
          hostname: out.status.hostname,
          self_signed: out.status.self_signed,
          changed: out.changed,
          reason: out.status.reason,
        });
        return out;
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const timer = setInterval(
    () => check().catch((e) => logEvent("serve.certificate_error", { error: oneLine(e) })),
    intervalMs,
  );
  timer.unref?.();
  return { check, stop: () => clearInterval(timer) };
}
