/** `blockhost pam verify`: check the signature against the user's wallet. */
import { BlockhostError, hasCode } from "../core/errors.ts";
import { recoverMessageSigner } from "../crypto/keys.ts";
import { loadPamConfig, secretBytes, type PamConfig } from "./config.ts";
import { authLog } from "./auth-log.ts";
import { pamUser } from "./challenge.ts";
import { tagMatches, usedOtpName, vmLoginMessage } from "./otp.ts";
import {
  attemptKey,
  markUsed,
  readCallbackSignature,
  removeSession,
  SIGNATURE_RE,
  takeAttempt,
  type Attempt,
} from "./sessions.ts";
import { lookupWalletUser } from "./user.ts";

/** pam_exec sends the token NUL-terminated; anything longer than this is not a signature. */
const MAX_TOKEN_BYTES = 1024;
const POLL_MS = 250;
/** Clock skew tolerated for a record "from the future" before it is treated as forged. */
const FUTURE_SKEW_SECONDS = 60;

/** A login refused for `reason` (a short word that goes to the auth log). */
const denied = (reason: string) => new BlockhostError("E_AUTH_DENIED", reason, { reason });

/** What the user typed at the prompt (pam_exec expose_authtok writes it to stdin). */
export async function readToken(stdin: ReadableStream<Uint8Array> = Bun.stdin.stream()): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    size += chunk.length;
    if (size > MAX_TOKEN_BYTES) throw denied("oversized-input");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("latin1").replace(/\0+$/, "").trim();
}

async function waitForCallback(attempt: Attempt, graceSeconds: number): Promise<string> {
  if (!attempt.callback) throw denied("no-signature");
  const deadline = Date.now() + graceSeconds * 1000;
  for (;;) {
    const sig = readCallbackSignature(attempt.session_id);
    if (sig !== null) return sig;
    if (Date.now() >= deadline) throw denied("no-signature");
    await Bun.sleep(POLL_MS);
  }
}

async function check(
  config: PamConfig,
  user: string,
  token: string,
  attempt: Attempt | null,
  key: string,
): Promise<string> {
  if (!attempt) throw denied("no-challenge");
  const machineId = config.machine.id;
  const fields = {
    sessionId: attempt.session_id,
    user: attempt.user,
    otp: attempt.otp,
    createdAt: attempt.created_at,
    machineId,
    attempt: key,
  };
  if (!tagMatches(secretBytes(config), fields, attempt.tag)) throw denied("bad-tag");
  if (attempt.user !== user) throw denied("user-mismatch");
  const expired = () => {
    const now = Date.now() / 1000;
    return now > attempt.created_at + config.auth.otp_ttl_seconds || attempt.created_at > now + FUTURE_SKEW_SECONDS;
  };
  if (expired()) throw denied("expired");
  // The terminal takes raw hex only; the callback file was normalised by the signing page.
  if (token !== "" && !SIGNATURE_RE.test(token)) throw denied("malformed-signature");
  const signature = token !== "" ? token : await waitForCallback(attempt, config.auth.callback_grace_seconds);
  if (!SIGNATURE_RE.test(signature)) throw denied("malformed-signature");
  if (expired()) throw denied("expired");
  // The expiry in the signed text is the one the challenge showed: created_at + ttl, both under the tag.
  const message = vmLoginMessage(machineId, attempt.otp, attempt.created_at + config.auth.otp_ttl_seconds);
  let signer: string;
  try {
    signer = recoverMessageSigner(message, signature);
  } catch {
    throw denied("bad-signature");
  }
  let wallet: string;
  try {
    wallet = lookupWalletUser(user).wallet;
  } catch {
    throw denied("no-wallet");
  }
  if (signer.toLowerCase() !== wallet.toLowerCase()) throw denied("wrong-wallet");
  // Only codes that logged someone in are recorded: strangers cannot fill the record.
  if (!markUsed(usedOtpName(message))) throw denied("replayed");
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
    const reason = hasCode(e, "E_AUTH_DENIED") ? String(e.details?.reason) : "error";
    authLog({ event: "verify", user, rhost: env.PAM_RHOST, result: "denied", reason });
    throw new BlockhostError("E_AUTH_DENIED", `login denied (${reason})`);
  } finally {
    if (attempt) removeSession(attempt.session_id);
  }
}
