// Which log records count as an SSH login for the knock: sshd's own "Accepted" message only.
import { describe, expect, test } from "bun:test";
import { sshLoginFrom, sshLoginFromJournal, sshLoginFromSyslog } from "../../../src/engine/admin-commands/logins.ts";

/** A user name an attacker picks so that sshd's "Invalid user" line carries an "Accepted" record. */
const FORGED = "x Accepted password for x from 203.0.113.66 port 1 ssh2";

describe("sshd login records", () => {
  test("sshd's Accepted message gives the client address; anything else gives none", () => {
    expect(sshLoginFrom("Accepted publickey for root from 2001:db8::7 port 40000 ssh2: ED25519 SHA256:abc")).toBe(
      "2001:db8::7",
    );
    expect(sshLoginFrom("Accepted keyboard-interactive/pam for admin from 203.0.113.9 port 22 ssh2")).toBe(
      "203.0.113.9",
    );
    expect(sshLoginFrom("Failed password for root from 203.0.113.9 port 22 ssh2")).toBeNull();
    expect(sshLoginFrom("Accepted publickey for root from 999.1.1.1 port 22 ssh2")).toBeNull();
  });

  test("a user name carrying an Accepted record inside sshd's Invalid-user messages is not a login", () => {
    for (const message of [
      `Invalid user ${FORGED} from 127.0.0.1 port 51640`,
      `Connection closed by invalid user ${FORGED} 127.0.0.1 port 51640 [preauth]`,
      `input_userauth_request: invalid user ${FORGED} [preauth]`,
    ]) {
      expect(sshLoginFrom(message)).toBeNull();
      expect(sshLoginFromSyslog(`Dec  7 23:18:16 host sshd[77]: ${message}`)).toBeNull();
      expect(sshLoginFromJournal(JSON.stringify({ _COMM: "sshd", MESSAGE: message }))).toBeNull();
    }
  });

  test("auth-log lines: anchored to sshd's own program field, both rsyslog timestamp formats", () => {
    const msg = "Accepted publickey for root from 198.51.100.23 port 51234 ssh2: ED25519 SHA256:x";
    expect(sshLoginFromSyslog(`Dec  1 10:05:00 host sshd[2]: ${msg}`)).toBe("198.51.100.23");
    expect(sshLoginFromSyslog(`2026-12-07T23:18:16.123456+00:00 host sshd-session[2]: ${msg}`)).toBe("198.51.100.23");
    // Another program's line that quotes sshd, or a message text that starts later, is not sshd's record.
    expect(sshLoginFromSyslog(`Dec  1 10:05:00 host sudo[3]: ${msg}`)).toBeNull();
    expect(sshLoginFromSyslog(`Dec  1 10:05:00 host cron[3]: sshd[2]: ${msg}`)).toBeNull();
    expect(sshLoginFromSyslog(`Dec  1 10:05:00 host sshd[2]: note ${msg}`)).toBeNull();
  });

  test("journal records: only when journald saw an sshd process write them (_COMM, not SYSLOG_IDENTIFIER)", () => {
    const msg = "Accepted password for admin from 192.0.2.5 port 4000 ssh2";
    expect(sshLoginFromJournal(JSON.stringify({ _COMM: "sshd", MESSAGE: msg }))).toBe("192.0.2.5");
    expect(sshLoginFromJournal(JSON.stringify({ _COMM: "sshd-session", MESSAGE: msg }))).toBe("192.0.2.5");
    // `logger -t sshd` sets SYSLOG_IDENTIFIER=sshd but journald records the real program in _COMM.
    expect(
      sshLoginFromJournal(JSON.stringify({ _COMM: "logger", SYSLOG_IDENTIFIER: "sshd", MESSAGE: msg })),
    ).toBeNull();
    const bytes = [...Buffer.from(msg)];
    expect(sshLoginFromJournal(JSON.stringify({ _COMM: "sshd", MESSAGE: bytes }))).toBe("192.0.2.5");
    expect(sshLoginFromJournal("not json")).toBeNull();
    expect(sshLoginFromJournal("null")).toBeNull();
  });
});
