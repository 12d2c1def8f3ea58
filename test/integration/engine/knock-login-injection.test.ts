// The knock's login detection against a real sshd: a user name that carries an "Accepted" record does not
// narrow the knock to the address it names; a real login afterwards does, to the real client.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "ssh2";
import { checkLogin, loginLogStart } from "../../../src/engine/admin-commands/logins.ts";
import { tempDir } from "../../helpers/binary.ts";
import { sshdUnavailable, startSshd, type TestSshd } from "../../helpers/sshd.ts";

setDefaultTimeout(60_000);

const INJECTED_IP = "203.0.113.66";
const FORGED_USER = `x Accepted password for x from ${INJECTED_IP} port 1 ssh2`;
/** Any account that exists on Debian: pam_permit lets it in, so sshd logs a genuine "Accepted" line. */
const REAL_USER = "nobody";

const skip = sshdUnavailable();
if (skip) console.log(`skipping knock login-injection test: ${skip}`);

/** Try keyboard-interactive as `username` with any answer; resolves when sshd has decided. */
function attempt(port: number, username: string): Promise<"accepted" | "refused"> {
  return new Promise((resolve) => {
    const conn = new Client();
    conn.on("keyboard-interactive", (_n, _i, _l, prompts, finish) => finish(prompts.map(() => "x")));
    conn.on("ready", () => {
      conn.end();
      resolve("accepted");
    });
    // sshd drops the connection of an invalid user (an error or a plain close, depending on timing).
    conn.on("error", () => resolve("refused"));
    conn.on("close", () => resolve("refused"));
    conn.connect({
      host: "127.0.0.1",
      port,
      username,
      tryKeyboard: true,
      authHandler: ["keyboard-interactive"],
      readyTimeout: 20_000,
    });
  });
}

async function until<T>(what: string, probe: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe.skipIf(!!skip)("knock login detection with a real sshd", () => {
  let sshd: TestSshd;
  let dir: string;
  let cleanup: () => void;
  let authLog: string;
  let relayed = 0;
  /** What rsyslog does with each message sshd sends: prefix it with time, host and `sshd[pid]: `. */
  const relay = () => {
    const lines = sshd.log().split(/\r?\n/).slice(0, -1);
    for (const line of lines.slice(relayed)) appendFileSync(authLog, `Dec  7 23:18:16 host sshd[4242]: ${line}\n`);
    relayed = lines.length;
    return lines;
  };

  beforeAll(async () => {
    ({ dir, cleanup } = tempDir("bh-knock-sshd-"));
    authLog = join(dir, "auth.log");
    writeFileSync(authLog, "");
    sshd = await startSshd(
      dir,
      "auth required pam_permit.so\naccount required pam_permit.so\nsession required pam_permit.so\n",
      ["UsePAM yes", "KbdInteractiveAuthentication yes", "PasswordAuthentication no", "PubkeyAuthentication no"].join(
        "\n",
      ),
    );
  });
  afterAll(async () => {
    await sshd?.stop();
    cleanup?.();
  });

  test("a user name carrying an Accepted record does not narrow the knock; the real login then does", async () => {
    const openedAt = Date.now();
    const cursor = loginLogStart(authLog);

    expect(await attempt(sshd.port, FORGED_USER)).toBe("refused");
    // sshd's own rendering of the name (the attacker's real input) is in the log before we judge it.
    const logged = await until("sshd's Invalid-user line", () =>
      relay().find((l) => l.includes("Invalid user") && l.includes(INJECTED_IP)),
    );
    expect(logged).toContain(`Accepted password for x from ${INJECTED_IP}`);
    const afterForged = checkLogin(authLog, openedAt, cursor, true);
    expect(afterForged.ip).toBeNull();

    expect(await attempt(sshd.port, REAL_USER)).toBe("accepted");
    await until("sshd's Accepted line", () =>
      relay().some((l) => /^Accepted \S+ for nobody from 127\.0\.0\.1/.test(l)),
    );
    expect(checkLogin(authLog, openedAt, afterForged.cursor, true).ip).toBe("127.0.0.1");
    // Read from the knock's start again: the forged record still loses to the genuine one.
    expect(checkLogin(authLog, openedAt, cursor, true).ip).toBe("127.0.0.1");
  });
});
