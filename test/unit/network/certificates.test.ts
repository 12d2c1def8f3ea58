/** serve's certificate status record and its `blockhost status` line; sslip.io names. */
import { expect, test } from "bun:test";
import { setMeta } from "../../../src/core/state/meta.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import {
  formatCertificateStatus,
  readCertificateStatus,
  recordCertificateStatus,
  sslipName,
} from "../../../src/network/certificates.ts";

const fallback = {
  hostname: "h.example",
  self_signed: true,
  reason: "ACME failed: ACME server https://ca/dir unreachable (ECONNREFUSED)",
  not_after: "2036-01-01T00:00:00.000Z",
  checked_at: "2026-12-01T20:00:00.000Z",
};

test("the recorded status reads back and names the fallback's reason", () => {
  const db = openDatabase(":memory:");
  expect(readCertificateStatus(db)).toBeNull();
  expect(formatCertificateStatus(null)).toContain("serve not started");
  recordCertificateStatus(db, fallback);
  expect(readCertificateStatus(db)).toEqual(fallback);
  expect(formatCertificateStatus(readCertificateStatus(db))).toBe(
    "https:    h.example: SELF-SIGNED, valid until 2036-01-01T00:00:00.000Z; ACME failed: ACME server https://ca/dir unreachable (ECONNREFUSED)",
  );
  recordCertificateStatus(db, { ...fallback, self_signed: false, reason: null });
  expect(formatCertificateStatus(readCertificateStatus(db))).toBe(
    "https:    h.example: ACME, valid until 2036-01-01T00:00:00.000Z",
  );
});

test("a record that is not the expected shape is ignored, not trusted", () => {
  const db = openDatabase(":memory:");
  setMeta(db, "serve.certificate", JSON.stringify({ ...fallback, extra: 1 }));
  expect(readCertificateStatus(db)).toBeNull();
  setMeta(db, "serve.certificate", "{not json");
  expect(readCertificateStatus(db)).toBeNull();
});

test("sslip.io names for the host's public addresses", () => {
  expect(sslipName("2001:db8:1::2")).toBe("2001-db8-1--2.sslip.io");
  expect(sslipName("203.0.113.5")).toBe("203-0-113-5.sslip.io");
});
