/** The certificate keeper records each outcome and swaps the listener only when the files change. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ensureSelfSigned, runLocalOpenssl } from "../../../src/core/self-signed-cert.ts";
import { openDatabase } from "../../../src/core/state/db.ts";
import { keepCertificate } from "../../../src/network/cert-keeper.ts";
import { readCertificateStatus, type TlsFiles } from "../../../src/network/certificates.ts";
import { tempDir } from "../../helpers/binary.ts";

test("without a public name: self-signed once, recorded with the reason, applied once", async () => {
  const { dir, cleanup } = tempDir("bh-keeper-");
  try {
    const files = { cert_file: join(dir, "cert.pem"), key_file: join(dir, "key.pem") };
    const made = { cert: files.cert_file, key: files.key_file };
    await ensureSelfSigned(made, { names: ["h.test"], keyMode: 0o600, days: 3, run: runLocalOpenssl });
    const db = openDatabase(":memory:");
    const applied: TlsFiles[] = [];
    const keeper = keepCertificate(
      db,
      (current) => ({ hostname: "h.test", current, install: async () => files, selfSigned: () => files }),
      null,
      (f) => applied.push(f),
    );
    try {
      const first = await keeper.check();
      expect(first.changed).toBe(true);
      expect(readCertificateStatus(db)).toMatchObject({
        hostname: "h.test",
        self_signed: true,
        reason: expect.stringContaining("no public host name"),
      });
      const second = await keeper.check();
      expect(second.changed).toBe(false);
      expect(applied).toEqual([files]);
    } finally {
      keeper.stop();
    }
  } finally {
    cleanup();
  }
});
