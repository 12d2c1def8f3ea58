// The admin command payload: built, encrypted to the server key, decrypted and validated.
import { describe, expect, test } from "bun:test";
import { generatePrivateKey, publicKeyOf } from "../../../src/crypto/keys.ts";
import {
  buildAdminCommand,
  decodeAdminCommand,
  encryptAdminCommand,
} from "../../../src/engine/admin-commands/payload.ts";

describe("admin command payload", () => {
  const key = generatePrivateKey();
  test("round trip: {command, params, nonce, timestamp}", () => {
    const p = buildAdminCommand({ command: "a1b2c3d4e5f60718", params: { duration: 60 } });
    expect(p.nonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(p.timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(decodeAdminCommand(key, encryptAdminCommand(publicKeyOf(key), p))).toEqual(p);
  });
  test("another server's key cannot decrypt it (E_CRYPTO); a payload with extra keys is malformed", () => {
    const data = encryptAdminCommand(publicKeyOf(generatePrivateKey()), buildAdminCommand({ command: "x" }));
    expect(() => decodeAdminCommand(key, data)).toThrow(expect.objectContaining({ code: "E_CRYPTO" }));
    expect(() => buildAdminCommand({ command: "bad name!" })).toThrow(
      expect.objectContaining({ code: "E_INVALID_INPUT" }),
    );
  });
  test("the payload builder bundles for the browser (the signup page's admin sender uses it)", async () => {
    const out = await Bun.build({
      entrypoints: [`${import.meta.dir}/../../../src/engine/admin-commands/payload.ts`],
      target: "browser",
    });
    expect(out.logs.filter((l) => l.level === "error")).toEqual([]);
    expect(out.success).toBe(true);
  });
});
