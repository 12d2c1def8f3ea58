/** The compiled wizard on loopback: HTTPS only, the printed fingerprint is the served certificate's, the code stays off its log. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startWizard, type RunningWizard } from "../../helpers/wizard.ts";
import { peerFingerprint } from "../../helpers/tls-peer.ts";

describe("wizard over TLS (compiled binary)", () => {
  let wizard: RunningWizard;
  beforeAll(async () => {
    wizard = await startWizard();
  });
  afterAll(async () => {
    await wizard?.stop();
  });

  const port = () => Number(new URL(wizard.url).port);

  test("the console shows URL, certificate fingerprint and code, one per line; the fingerprint is the served certificate's", async () => {
    expect(wizard.console).toMatch(/^URL: https:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(wizard.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await peerFingerprint("127.0.0.1", port())).toBe(wizard.fingerprint);
  });

  test("the login answers over HTTPS with a Secure cookie; nothing answers in clear", async () => {
    const insecure = { tls: { rejectUnauthorized: false }, redirect: "manual" } as const;
    const page = await fetch(`${wizard.url}/login`, insecure);
    expect(page.status).toBe(200);
    expect(page.headers.get("strict-transport-security")).toContain("max-age=");
    const login = await fetch(`${wizard.url}/login`, {
      ...insecure,
      method: "POST",
      body: new URLSearchParams({ otp: wizard.otp }),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("set-cookie")).toMatch(/^__Host-bh_wizard=.*; Secure/);
    const clear = await fetch(`http://127.0.0.1:${port()}/login`, { redirect: "manual" }).then(
      (r) => `HTTP ${r.status}`,
      () => "no HTTP answer",
    );
    expect(clear).not.toMatch(/^HTTP [23]\d\d$/);
  });

  test("wrong codes back off per client (429 with Retry-After), and the code never reaches the log", async () => {
    const post = (otp: string) =>
      fetch(`${wizard.url}/login`, {
        tls: { rejectUnauthorized: false },
        redirect: "manual",
        method: "POST",
        body: new URLSearchParams({ otp }),
      });
    expect((await post("WRONG1")).status).toBe(401);
    const held = await post(wizard.otp);
    expect(held.status).toBe(429);
    expect(Number(held.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(wizard.log()).toContain('"event":"wizard.listening"');
    expect(wizard.log()).toContain('"result":"backoff"');
    expect(wizard.log()).not.toContain(wizard.otp);
  });
});
