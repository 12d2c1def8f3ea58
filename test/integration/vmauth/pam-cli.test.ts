/** `blockhost pam challenge/verify` through the binary. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost, tempDir } from "../../helpers/binary.ts";
import { otpTag } from "../../../src/vmauth/otp.ts";
import {
  loginMessage,
  MACHINE_ID,
  OWNER,
  parseChallenge,
  SECRET,
  STRANGER,
  writeVmRoot,
  untilExpired,
} from "../../helpers/vmauth.ts";

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
    expect(c.code).toMatch(/^\d{12}$/);
    expect(c.machine).toBe(MACHINE_ID);
    expect(c.url).toMatch(/^https:\/\/vm1\.example\.net:63108\/\?session=[0-9a-f]{32}$/);
    expect(pendingFiles()).toContain(`${c.session}.json`);
  });

  test("an unknown user gets a decoy code and no session", async () => {
    const c = await challenge("nobody-here");
    expect(c.code).toMatch(/^\d{12}$/);
    expect(pendingFiles().filter((f) => f.startsWith(c.session!))).toEqual([]);
    expect((await verify("")).code).toBe(1);
  });
});

describe("pam verify", () => {
  test("a pasted signature from the GECOS wallet logs in, and the session files are gone", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    const r = await verify(sig);
    expect(r.stderr).toContain("result=success");
    expect(r.code).toBe(0);
    expect(pendingFiles().filter((f) => f.startsWith(c.session!))).toEqual([]);
  });

  test("Enter after the signing page stored the signature logs in", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    writeFileSync(join(root, "run/libpam-web3/pending", `${c.session}.sig`), sig.toLowerCase());
    const r = await verify("");
    expect(r.code).toBe(0);
  });

  const refusals: Array<[string, (c: { code: string; machine: string; expires: string }) => Promise<string>, string]> =
    [
      [
        "the wrong wallet",
        (c) => STRANGER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) }),
        "wrong-wallet",
      ],
      [
        "a signature for another machine id",
        (c) => OWNER.signMessage({ message: loginMessage("vm-other", c.code, c.expires) }),
        "wrong-wallet",
      ],
      ["garbage at the prompt", async () => "hello; rm -rf /", "malformed-signature"],
      [
        "a signature with a bad length",
        async (c) => (await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) })).slice(0, -2),
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
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    expect((await verify(sig)).code).toBe(0);
    await challenge();
    const again = await verify(sig);
    expect(again.code).toBe(1);
  });

  test("refuses a valid signature for a code that already logged someone in (used-code record)", async () => {
    const c = await challenge();
    const message = loginMessage(c.machine, c.code, c.expires);
    mkdirSync(join(root, "var/lib/libpam-web3/used"), { recursive: true });
    writeFileSync(join(root, "var/lib/libpam-web3/used", createHash("sha256").update(message).digest("hex")), "");
    const r = await verify(await OWNER.signMessage({ message }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=replayed");
  });

  test("refuses a verify without a challenge (the code is single-use)", async () => {
    const c = await challenge();
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
    expect((await verify(sig)).code).toBe(0);
    const r = await verify(sig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=no-challenge");
  });

  test("refuses a user other than the one challenged", async () => {
    const c = await challenge("alice");
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
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
    record.otp = "123456789012";
    writeFileSync(path, JSON.stringify(record));
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, "123456789012", c.expires) });
    const r = await verify(sig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=bad-tag");
  });

  test("refuses an expired code", async () => {
    writeVmRoot(root, { ttl: 1, grace: 1 });
    try {
      const c = await challenge();
      const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, c.expires) });
      await untilExpired(c.expires);
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
      const sig = await OWNER.signMessage({ message: loginMessage(again.machine, again.code, again.expires) });
      expect((await runBlockhost(["pam", "verify"], { root: bare.dir, env: env(), stdin: `${sig}\n` })).code).toBe(0);
    } finally {
      bare.cleanup();
    }
  });
});

/**
 * Replays as an attacker holding a captured signature would try them. The attacker cannot write the
 * VM's attempt records (root-only, tagged with the VM secret), so the best they can hope for is that a
 * later challenge draws the same code: the test stands in for that luck by re-tagging the live attempt
 * with the captured code (and, where the scenario needs it, the captured moment), as the VM itself would.
 */
describe("a captured signature does not log in again", () => {
  const attemptsDir = (r: string) => join(r, "run/libpam-web3/attempts");
  /** Make the pending attempt in `r` carry `otp` issued at `createdAt`, with a valid tag. */
  function drawSameCode(r: string, machineId: string, otp: string, createdAt: number): void {
    const [file] = readdirSync(attemptsDir(r));
    const path = join(attemptsDir(r), file!);
    const record = JSON.parse(readFileSync(path, "utf8"));
    const fields = {
      sessionId: record.session_id,
      user: record.user,
      otp,
      createdAt,
      machineId,
      attempt: file!.replace(/\.json$/, ""),
    };
    writeFileSync(
      path,
      JSON.stringify({ ...record, otp, created_at: createdAt, tag: otpTag(Buffer.from(SECRET, "hex"), fields) }),
    );
  }
  const createdAtOf = (r: string) => {
    const [file] = readdirSync(attemptsDir(r));
    return JSON.parse(readFileSync(join(attemptsDir(r), file!), "utf8")).created_at as number;
  };

  test("after the code was used, even across a reboot (the used-code record is on disk)", async () => {
    const c = await challenge();
    const issuedAt = createdAtOf(root);
    const sig = await OWNER.signMessage({ message: c.message });
    expect((await verify(sig)).code).toBe(0);
    rmSync(join(root, "run"), { recursive: true, force: true }); // a reboot empties /run
    writeVmRoot(root, { passwd, signingHost: "vm1.example.net", grace: 1 });
    await challenge();
    drawSameCode(root, MACHINE_ID, c.code, issuedAt);
    const r = await verify(sig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=replayed");
  });

  test("after expiry: a signature of the same code from an hour ago is refused (its expiry is in the text)", async () => {
    const c = await challenge();
    const anHourAgo = createdAtOf(root) - 3600;
    const expired = new Date((anHourAgo + 300) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    // The victim signed this code an hour ago; its used-code record has long been pruned.
    const sig = await OWNER.signMessage({ message: loginMessage(c.machine, c.code, expired) });
    const r = await verify(sig);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("reason=wrong-wallet");
  });

  test("on another VM of the same wallet, same code and moment: its identity differs, so it is refused", async () => {
    const other = tempDir("blockhost-pam-other-vm-");
    try {
      writeVmRoot(other.dir, { passwd, signingHost: "vm2.example.net", grace: 1, machineId: "vm-othervmidentity" });
      const c = await challenge();
      const issuedAt = createdAtOf(root);
      const sig = await OWNER.signMessage({ message: c.message });
      const r0 = await runBlockhost(["pam", "challenge"], { root: other.dir, env: env() });
      expect(r0.code).toBe(0);
      drawSameCode(other.dir, "vm-othervmidentity", c.code, issuedAt);
      const r = await runBlockhost(["pam", "verify"], { root: other.dir, env: env(), stdin: `${sig}\0` });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("reason=wrong-wallet");
      // The captured signature is still good where it was made (it was never used there).
      expect((await verify(sig)).code).toBe(0);
    } finally {
      other.cleanup();
    }
  });
});
