/** `blockhost pam challenge/verify` through the binary. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";
import { loginMessage, MACHINE_ID, OWNER, parseChallenge, STRANGER, writeVmRoot } from "../../helpers/vmauth.ts";

/** Processes start here (the binary, openssl): bound each test generously; none asserts a duration. */
setDefaultTimeout(60_000);

// `blockhost pam challenge` then `verify`, run as pam_exec runs them: PAM_USER in the
// environment, the typed token NUL-terminated on stdin, both children of one process (this test).
const t = tempDir("blockhost-pam-cli-");
const root = t.dir;
const passwd = [
  "root:x:0:0:root:/root:/bin/bash",
  `alice:x:1000:1000:wallet=${OWNER.address},nft=3:/home/alice:/bin/sh`,
  "bob:x:1001:1001:Bob:/home/bob:/bin/sh",
];
const env = (user = "alice") => ({ PAM_USER: user, PAM_RHOST: "192.0.2.7", PAM_TYPE: "auth", PAM_SERVICE: "sshd" });

async function challenge(user = "alice") {
  const r = await runBlockhost(["pam", "challenge"], { root, env: env(user) });
  expect(r.code).toBe(0);
  return parseChallenge(r.stdout);
}
const verify = (token: string, user = "alice") =>
  runBlockhost(["pam", "verify"], { root, env: env(user), stdin: `${token}\0` });
const pendingFiles = () => readdirSync(join(root, "run/libpam-web3/pending"));

beforeAll(() => writeVmRoot(root, { passwd, signingHost: "vm1.example.net", grace: 1 }));
afterAll(() => t.cleanup());

describe("pam challenge", () => {
  test("shows the code, the machine and the signing URL with a 32-hex session", async () => {
    const c = await challenge();
    expect(c.code).toMatch(/^\d{6}$/);
    expect(c.machine).toBe(MACHINE_ID);
    expect(c.url).toMatch(/^https:\/\/vm1\.example\.net:63108\/\?session=[0-9a-f]{32}$/);
    expect(pendingFiles()).toContain(`${c.session}.json`);
  });

  test("an unknown user gets a decoy code and no session", async () => {
    const c = await challenge("nobody-here");
    expect(c.code).toMatch(/^\d{6}$/);
    expect(pendingFiles().filter((f) => f.startsWith(c.session!))).toEqual([]);
    expect((await verify("")).code).toBe(1);
  });
});

describe("pam verify", () => {
  test("a pasted signature from the GECOS wallet logs in, and the session files are gone", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code) });
    const r = await verify(sig);
    expect(r.stderr).toContain("result=success");
    expect(r.code).toBe(0);
    expect(pendingFiles().filter((f) => f.startsWith(c.session!))).toEqual([]);
  });

  test("Enter after the signing page stored the signature logs in", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code) });
    writeFileSync(join(root, "run/libpam-web3/pending", `${c.session}.sig`), sig.toLowerCase());
    const r = await verify("");
    expect(r.code).toBe(0);
  });

  const refusals: Array<[string, (c: { code: string; machine: string }) => Promise<string>, string]> = [
    ["the wrong wallet", (c) => STRANGER.signMessage({ message: loginMessage(c.machine, c.code) }), "wrong-wallet"],
    [
      "a signature for another machine id",
      (c) => OWNER.signMessage({ message: loginMessage("vm-other", c.code) }),
      "wrong-wallet",
    ],
    ["garbage at the prompt", async () => "hello; rm -rf /", "malformed-signature"],
    [
      "a signature with a bad length",
      async (c) => (await OWNER.signMessage({ message: loginMessage(c.machine, c.code) })).slice(0, -2),
      "malformed-signature",
    ],
    ["Enter without a signature", async () => "", "no-signature"],
  ];
  for (const [name, token, reason] of refusals) {
    test(`refuses ${name}`, async () => {
      const c = await challenge();
      const r = await verify(await token(c));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`reason=${reason}`);
      expect(pendingFiles().filter((f) => f.startsWith(c.session!))).toEqual([]);
    });
  }

  test("refuses a replayed signature", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code) });
    expect((await verify(sig)).code).toBe(0);
    await challenge();
    const again = await verify(sig);
    expect(again.code).toBe(1);
  });

  test("refuses a valid signature for a code that already logged someone in (used-code record)", async () => {
    const c = await challenge();
    const message = loginMessage(c.machine, c.code);
    mkdirSync(join(root, "run/libpam-web3/used"), { recursive: true });
    writeFileSync(join(root, "run/libpam-web3/used", createHash("sha256").update(message).digest("hex")), "");
    const r = await verify(await OWNER.signMessage({ message }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=replayed");
  });

  test("refuses a verify without a challenge (the code is single-use)", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code) });
    expect((await verify(sig)).code).toBe(0);
    const r = await verify(sig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=no-challenge");
  });

  test("refuses a user other than the one challenged", async () => {
    const c = await challenge("alice");
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code) });
    const r = await verify(sig, "bob");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=user-mismatch");
  });

  test("refuses a tampered attempt record (integrity tag)", async () => {
    const c = await challenge();
    const dir = join(root, "run/libpam-web3/attempts");
    const [file] = readdirSync(dir);
    const path = join(dir, file!);
    const record = JSON.parse(await Bun.file(path).text());
    record.otp = "123456";
    writeFileSync(path, JSON.stringify(record));
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, "123456") });
    const r = await verify(sig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=bad-tag");
  });

  test("refuses an expired code", async () => {
    writeVmRoot(root, { ttl: 1, grace: 1 });
    try {
      const c = await challenge();
      const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code) });
      await Bun.sleep(2100);
      const r = await verify(sig);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("reason=expired");
    } finally {
      writeVmRoot(root, { grace: 1 });
    }
  });

  test("refuses to run outside the auth stack", async () => {
    const r = await runBlockhost(["pam", "challenge"], { root, env: { ...env(), PAM_TYPE: "session" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("auth stack");
  });

  test("a missing config is a config error (exit 78)", async () => {
    const empty = tempDir();
    try {
      const r = await runBlockhost(["pam", "challenge"], { root: empty.dir, env: env() });
      expect(r.code).toBe(78);
      expect(r.stderr).toContain("config.toml");
    } finally {
      empty.cleanup();
    }
  });
});

describe("without the signing page's callback directory", () => {
  test("the URL has no session and only a pasted signature logs in", async () => {
    const bare = tempDir("blockhost-pam-nocallback-");
    try {
      writeVmRoot(bare.dir, { passwd, signingHost: "vm1.example.net", callback: false, grace: 1 });
      const r = await runBlockhost(["pam", "challenge"], { root: bare.dir, env: env() });
      const c = parseChallenge(r.stdout);
      expect(c.url).toBe("https://vm1.example.net:63108/");
      const enter = await runBlockhost(["pam", "verify"], { root: bare.dir, env: env(), stdin: "\0" });
      expect(enter.stderr).toContain("reason=no-signature");
      const again = parseChallenge((await runBlockhost(["pam", "challenge"], { root: bare.dir, env: env() })).stdout);
      const sig = await OWNER.signMessage({ message: loginMessage(again.machine, again.code) });
      expect((await runBlockhost(["pam", "verify"], { root: bare.dir, env: env(), stdin: `${sig}\n` })).code).toBe(0);
    } finally {
      bare.cleanup();
    }
  });
});
