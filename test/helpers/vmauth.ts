/** A temp root with the in-VM login files. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";

/** Anvil's well-known dev keys: the customer's wallet and a stranger's. */
export const OWNER = privateKeyToAccount("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
export const STRANGER = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
export const MACHINE_ID = "vm-test-1";
export const SECRET = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

export interface VmRootOptions {
  /** Lines for <root>/etc/passwd; omit to leave the file alone (e.g. a symlink to the real one). */
  passwd?: string[];
  ttl?: number;
  grace?: number;
  useTls?: boolean;
  signingHost?: string;
  signingPort?: number;
  callback?: boolean;
  otpLength?: number;
  /** The VM's login identity (config.toml machine.id); MACHINE_ID by default. */
  machineId?: string;
}

/** Write config.toml (and optionally passwd, signing_host, the pending dir) under a VM-like root. */
export function writeVmRoot(root: string, o: VmRootOptions = {}): void {
  mkdirSync(join(root, "etc/pam_web3"), { recursive: true });
  const auth = [
    `otp_length = ${o.otpLength ?? 12}`,
    `otp_ttl_seconds = ${o.ttl ?? 300}`,
    `callback_grace_seconds = ${o.grace ?? 3}`,
    `use_tls = ${o.useTls ?? true}`,
    ...(o.signingPort ? [`signing_port = ${o.signingPort}`] : []),
  ];
  writeFileSync(
    join(root, "etc/pam_web3/config.toml"),
    `[machine]\nid = "${o.machineId ?? MACHINE_ID}"\nsecret_key = "${SECRET}"\n\n[auth]\n${auth.join("\n")}\n`,
    { mode: 0o600 },
  );
  if (o.passwd) writeFileSync(join(root, "etc/passwd"), `${o.passwd.join("\n")}\n`);
  mkdirSync(join(root, "run/libpam-web3"), { recursive: true });
  if (o.signingHost) writeFileSync(join(root, "run/libpam-web3/signing_host"), `${o.signingHost}\n`);
  if (o.callback !== false) mkdirSync(join(root, "run/libpam-web3/pending"), { recursive: true, mode: 0o700 });
}

/** The code, machine and URL a challenge printed (as the user reads them). */
export function parseChallenge(text: string): {
  code: string;
  machine: string;
  expires: string;
  url: string;
  session: string | undefined;
  /** The message exactly as the banner prints it (a JSON string), what a customer copies to sign. */
  message: string;
} {
  const code = /Code:\s+(\d+)/.exec(text)?.[1];
  const machine = /Machine:\s+(\S+)/.exec(text)?.[1];
  const expires = /Expires:\s+(\S+)/.exec(text)?.[1];
  const url = /Sign at:\s+(\S+)/.exec(text)?.[1];
  const message = /Message:\s+(".*")$/m.exec(text)?.[1];
  if (!code || !machine || !expires || !url || !message) throw new Error(`no challenge in: ${text}`);
  return {
    code,
    machine,
    expires,
    url,
    session: new URL(url).searchParams.get("session") ?? undefined,
    message: JSON.parse(message) as string,
  };
}

/** The in-VM login message, written out here (not imported) so a change of wording fails the tests. */
export const loginMessage = (machine: string, code: string, expires: string) =>
  `Authenticate to ${machine} with code: ${code}\nExpires: ${expires}`;

export interface SigningPage {
  port: number;
  stop: () => Promise<void>;
  stderr: () => string;
}

/** Start `blockhost signing-page` on 127.0.0.1 (a free port) and wait until it listens. */
export async function startSigningPage(bin: string, root: string): Promise<SigningPage> {
  const proc = Bun.spawn([bin, "signing-page", "--listen", "127.0.0.1", "--port", "0"], {
    cwd: "/",
    env: { PATH: "/usr/bin:/bin", BLOCKHOST_ROOT: root },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let log = "";
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`signing page did not start: ${log}`)), 20_000);
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          clearTimeout(timer);
          reject(new Error(`signing page exited: ${log}`));
          return;
        }
        log += decoder.decode(value);
        const m = /"event":"signing-page\.listening".*"port":(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
          return;
        }
      }
    })().catch(reject);
  });
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      log += decoder.decode(value);
    }
  })().catch(() => {});
  return {
    port,
    stderr: () => log,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/**
 * Returns once the wall clock is past a challenge's `Expires:` (from then on verify refuses the
 * code), checked against the clock rather than a sleep of a guessed length.
 */
export async function untilExpired(expires: string): Promise<void> {
  const at = Date.parse(expires);
  if (Number.isNaN(at)) throw new Error(`not an expiry: ${expires}`);
  while (Date.now() <= at) await Bun.sleep(Math.min(100, at - Date.now() + 1));
}
