/** `blockhost pam challenge`: issue the one-time code to sign. */
import { BlockhostError } from "../core/errors.ts";
import { loadPamConfig, secretBytes } from "./config.ts";
import {
  expiryText,
  generateOtp,
  MIN_VM_OTP_LENGTH,
  newSessionId,
  otpTag,
  usedOtpName,
  vmLoginMessage,
} from "./otp.ts";
import { authLog } from "./auth-log.ts";
import {
  attemptKey,
  callbackEnabled,
  isUsed,
  pruneStale,
  removeSession,
  takeAttempt,
  writeAttempt,
  writePending,
} from "./sessions.ts";
import { signingHost, signingUrl } from "./signing-host.ts";
import { lookupWalletUser } from "./user.ts";

/** The PAM user pam_exec hands over in the environment (PAM_TYPE must be "auth" when set). */
export function pamUser(env: NodeJS.ProcessEnv = process.env): string {
  // Only the auth stack may run these (a session/account line would issue or accept codes out of place).
  if (env.PAM_TYPE !== undefined && env.PAM_TYPE !== "auth")
    throw new BlockhostError("E_USAGE", `run from the PAM auth stack, not ${env.PAM_TYPE.slice(0, 16)}`);
  const user = env.PAM_USER;
  if (!user) throw new BlockhostError("E_USAGE", "PAM_USER is not set (this command is run by pam_exec)");
  return user;
}

/**
 * `blockhost pam challenge`: issue a one-time code for this PAM conversation and return the text
 * pam_exec shows the user. Unknown users and users without a wallet get a decoy code (nothing is
 * stored, so verify denies), so the banner does not reveal which accounts exist.
 */
export function runChallenge(env: NodeJS.ProcessEnv = process.env): string {
  const user = pamUser(env);
  const config = loadPamConfig();
  const machineId = config.machine.id;
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + config.auth.otp_ttl_seconds;
  const length = Math.max(config.auth.otp_length, MIN_VM_OTP_LENGTH);
  pruneStale(now, config.auth.otp_ttl_seconds + config.auth.callback_grace_seconds + 60, config.auth.otp_ttl_seconds);

  const key = attemptKey();
  const previous = takeAttempt(key);
  if (previous) removeSession(previous.session_id);

  let known = true;
  try {
    lookupWalletUser(user);
  } catch (e) {
    if (!(e instanceof BlockhostError)) throw e;
    known = false;
  }
  let otp = generateOtp(length);
  for (let tries = 1; isUsed(usedOtpName(vmLoginMessage(machineId, otp, expiresAt))); tries++) {
    // Only successful logins are recorded, so this needs thousands of them within the retention.
    if (tries >= 100) throw new BlockhostError("E_STATE", "no unused code left: raise otp_length");
    otp = generateOtp(length);
  }
  const sessionId = newSessionId();
  const callback = known && callbackEnabled();
  if (known) {
    const tag = otpTag(secretBytes(config), { sessionId, user, otp, createdAt: now, machineId, attempt: key });
    writeAttempt(key, { session_id: sessionId, user, otp, created_at: now, tag, callback });
    if (callback) writePending({ otp, machine_id: machineId, session_id: sessionId, expires_at: expiresAt });
  }
  authLog({ event: "challenge", user, rhost: env.PAM_RHOST, result: known ? "issued" : "decoy" });

  // A decoy looks like a real code: same URL shape whether or not the account exists.
  const showSession = known ? callback : callbackEnabled();
  const url = signingUrl(
    signingHost(),
    config.auth.signing_port,
    config.auth.use_tls,
    showSession ? sessionId : undefined,
  );
  const lines = [
    "Wallet login: sign this code with the wallet that owns this VM.",
    `  Code:    ${otp}`,
    `  Machine: ${machineId}`,
    `  Expires: ${expiryText(expiresAt)}`,
    `  Sign at: ${url}`,
    `  Message: ${JSON.stringify(vmLoginMessage(machineId, otp, expiresAt))}`,
    "After signing in the browser, press Enter at the prompt below",
    "(or paste the signature, 0x followed by 130 hex digits).",
  ];
  return `${lines.join("\n")}\n`;
}
