/** The certificate keeper records each outcome and swaps the listener only when the files change. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../../src/core/state/db.ts";
import { keepCertificate } from "../../../src/network/cert-keeper.ts";
import { readCertificateStatus, type TlsFiles } from "../../../src/network/certificates.ts";
import { tempDir } from "../../helpers/binary.ts";

test("without a public name: self-signed once, recorded with the reason, applied once", async () => {
  const { dir, cleanup } = tempDir("bh-keeper-");
  try {
    const files = { cert_file: join(dir, "cert.pem"), key_file: join(dir, "key.pem") };
    const r = Bun.spawnSync(
      [
        "/usr/bin/openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        files.key_file,
        "-out",
        files.cert_file,
        "-days",
        "3",
        "-subj",
        "/CN=h.test",
      ],
      { stderr: "pipe" },
    );
    expect(r.exitCode).toBe(0);
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
