import { recoverMessageAddress } from "viem";
import { BlockhostError } from "../core/errors.ts";
import { loadPamConfig, secretBytes, type PamConfig } from "./config.ts";
import { authLog } from "./auth-log.ts";
import { pamUser } from "./challenge.ts";
import { otpMessage, tagMatches, usedOtpName } from "./otp.ts";
import { attemptKey, markUsed, readCallbackSignature, removeSession, SIGNATURE_RE, takeAttempt, type Attempt } from "./sessions.ts";
import { lookupWalletUser } from "./user.ts";

/** pam_exec sends the token NUL-terminated; anything longer than this is not a signature. */
const MAX_TOKEN_BYTES = 1024;
const POLL_MS = 250;
/** Clock skew tolerated for a record "from the future" before it is treated as forged. */
const FUTURE_SKEW_SECONDS = 60;

class Denied extends Error {
  constructor(readonly reason: string) { super(reason); }
}

/** What the user typed at the prompt (pam_exec expose_authtok writes it to stdin). */
export async function readToken(stdin: ReadableStream<Uint8Array> = Bun.stdin.stream()): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    size += chunk.length;
    if (size > MAX_TOKEN_BYTES) throw new Denied("oversized-input");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("latin1").replace(/\0+$/, "").trim();
}

async function waitForCallback(attempt: Attempt, graceSeconds: number): Promise<string> {
  if (!attempt.callback) throw new Denied("no-signature");
  const deadline = Date.now() + graceSeconds * 1000;
  for (;;) {
    const sig = readCallbackSignature(attempt.session_id);
    if (sig !== null) return sig;
    if (Date.now() >= deadline) throw new Denied("no-signature");
    await Bun.sleep(POLL_MS);
  }
}

async function check(config: PamConfig, user: string, token: string, attempt: Attempt | null, key: string): Promise<string> {
  if (!attempt) throw new Denied("no-challenge");
  const machineId = config.machine.id;
  const fields = { sessionId: attempt.session_id, user: attempt.user, otp: attempt.otp, createdAt: attempt.created_at, machineId, attempt: key };
  if (!tagMatches(secretBytes(config), fields, attempt.tag)) throw new Denied("bad-tag");
  if (attempt.user !== user) throw new Denied("user-mismatch");
  const expired = () => {
    const now = Date.now() / 1000;
    return now > attempt.created_at + config.auth.otp_ttl_seconds || attempt.created_at > now + FUTURE_SKEW_SECONDS;
  };
  if (expired()) throw new Denied("expired");
  // The terminal takes raw hex only; the callback file was normalised by the signing page.
  if (token !== "" && !SIGNATURE_RE.test(token)) throw new Denied("malformed-signature");
  const signature = token !== "" ? token : await waitForCallback(attempt, config.auth.callback_grace_seconds);
  if (!SIGNATURE_RE.test(signature)) throw new Denied("malformed-signature");
  if (expired()) throw new Denied("expired");
  let signer: string;
  try {
    signer = await recoverMessageAddress({ message: otpMessage(machineId, attempt.otp), signature: signature as `0x${string}` });
  } catch {
    throw new Denied("bad-signature");
  }
  let wallet: string;
  try {
    wallet = lookupWalletUser(user).wallet;
  } catch {
    throw new Denied("no-wallet");
  }
  if (signer.toLowerCase() !== wallet.toLowerCase()) throw new Denied("wrong-wallet");
  // Only codes that logged someone in are recorded: strangers cannot fill the record.
  if (!markUsed(usedOtpName(machineId, attempt.otp))) throw new Denied("replayed");
  return wallet;
}

/**
 * `blockhost pam verify`: accept the login only if the signature (pasted, or stored by the
 * signing page) recovers to the user's GECOS wallet for this conversation's unexpired, unused
 * code. Every error denies; the attempt and its session files are consumed either way.
 */
export async function runVerify(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const user = pamUser(env);
  const config = loadPamConfig();
  const key = attemptKey();
  let attempt: Attempt | null = null;
  try {
    attempt = takeAttempt(key);
    const token = await readToken();
    const wallet = await check(config, user, token, attempt, key);
    authLog({ event: "verify", user, rhost: env.PAM_RHOST, result: "success", wallet });
  } catch (e) {
    const reason = e instanceof Denied ? e.reason : "error";
    authLog({ event: "verify", user, rhost: env.PAM_RHOST, result: "denied", reason });
    throw new BlockhostError("E_AUTH_DENIED", `login denied (${reason})`);
  } finally {
    if (attempt) removeSession(attempt.session_id);
  }
}
