/** A throwaway sshd with PAM for login tests. */
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Client } from "ssh2";
import { freePort } from "./anvil.ts";

export const SSHD_BIN = "/usr/sbin/sshd";

/** Why this machine cannot run the real-sshd tests, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (sshd, PAM and useradd)";
  for (const bin of [SSHD_BIN, "/usr/bin/ssh-keygen", "/usr/sbin/useradd", "/usr/sbin/userdel"]) {
    if (!existsSync(bin)) return `${bin} is missing (Debian openssh-server / passwd)`;
  }
  if (
    !existsSync("/lib/x86_64-linux-gnu/security/pam_exec.so") &&
    !existsSync("/usr/lib/x86_64-linux-gnu/security/pam_exec.so")
  )
    return "pam_exec.so is missing";
  return undefined;
}

export interface TestSshd {
  port: number;
  service: string;
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Start the real sshd on 127.0.0.1 with `pamStack` as its PAM service. sshd names its PAM
 * service after argv[0], so it runs through a uniquely named symlink and the stack goes to
 * /etc/pam.d/<that name>: the machine's own /etc/pam.d/sshd is never touched.
 */
export async function startSshd(dir: string, pamStack: string, sshdConfig: string): Promise<TestSshd> {
  const service = `blockhost-test-sshd-${randomBytes(4).toString("hex")}`;
  const pamFile = join("/etc/pam.d", service);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const keygen = Bun.spawnSync(["/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if (keygen.exitCode !== 0) throw new Error(`ssh-keygen: ${keygen.stderr}`);
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    `${[
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "LogLevel VERBOSE",
      sshdConfig,
    ].join("\n")}\n`,
  );
  writeFileSync(pamFile, pamStack);
  symlinkSync(SSHD_BIN, join(dir, service));
  const proc = Bun.spawn([join(dir, service), "-D", "-e", "-f", join(dir, "sshd_config")], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let log = "";
  (async () => {
    for await (const chunk of proc.stderr) log += new TextDecoder().decode(chunk);
  })().catch(() => {});
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(pamFile, { force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`sshd did not start: ${log}`);
    }
    await Bun.sleep(100);
  }
  return { port, service, log: () => log, stop };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

export interface LoginResult {
  ok: boolean;
  prompt: string;
  output: string;
  error?: string;
}

/**
 * Log in with keyboard-interactive as a user at a terminal would: read the prompt, answer it,
 * and once in, run `id -un` to show the shell really is the user's. Bounded by `timeoutMs`.
 */
export function sshLogin(
  port: number,
  username: string,
  answer: (prompt: string) => Promise<string>,
  timeoutMs = 60_000,
  host = "127.0.0.1",
): Promise<LoginResult> {
  return new Promise((resolve) => {
    const conn = new Client();
    let prompt = "";
    let settled = false;
    const done = (r: LoginResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.end();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, prompt, output: "", error: "timeout" }), timeoutMs);
    conn.on("keyboard-interactive", (_name, instructions, _lang, prompts, finish) => {
      prompt = [instructions, ...prompts.map((p) => p.prompt)].join("\n");
      answer(prompt).then(
        (a) => finish(prompts.map(() => a)),
        (e) => done({ ok: false, prompt, output: "", error: String(e) }),
      );
    });
    conn.on("ready", () => {
      conn.exec("id -un", (err, stream) => {
        if (err) return done({ ok: true, prompt, output: "", error: err.message });
        let output = "";
        stream.on("data", (d: Buffer) => (output += d.toString()));
        stream.on("close", () => done({ ok: true, prompt, output: output.trim() }));
      });
    });
    conn.on("error", (e) => done({ ok: false, prompt, output: "", error: e.message }));
    conn.connect({
      host,
      port,
      username,
      tryKeyboard: true,
      authHandler: ["keyboard-interactive"],
      readyTimeout: timeoutMs,
    });
  });
}
