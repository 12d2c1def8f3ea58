/** Obtain a certificate over ACME (http-01) with acme-client: tokens go where serve's port 80 reads them. */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:https";
import { dirname, join } from "node:path";
import * as acme from "acme-client";
import { BlockhostError, oneLine } from "../core/errors.ts";
import { writeFileAtomic } from "../core/fs.ts";

export interface AcmeRequest {
  readonly directoryUrl: string;
  /** The DNS name the certificate is for (a configured domain, the broker's zone, or an sslip.io name). */
  readonly hostname: string;
  readonly email?: string;
  /** The ACME account key, created (0600) on first use and reused for renewals. */
  readonly accountKeyFile: string;
  /** Where http-01 key authorisations are written; serve answers /.well-known/acme-challenge/ from it. */
  readonly challengeDir: string;
  /** Trust this CA (PEM) for the ACME server only, e.g. a test CA; never added system-wide. */
  readonly directoryCaPem?: string;
  /** acme-client's retries of a failed request (default 5, waiting 5 s, 10 s, … between them). */
  readonly retry?: { readonly attempts: number; readonly delaySeconds: number };
  /** acme-client fetches the token over port 80 itself before asking the CA (off when the name is not in DNS). */
  readonly selfCheck?: boolean;
}

export interface IssuedCertificate {
  /** The leaf and its chain, PEM. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;

async function accountKey(file: string): Promise<Buffer> {
  if (existsSync(file)) return readFileSync(file);
  const key = await acme.crypto.createPrivateEcdsaKey("P-256");
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, key, { mode: 0o600 });
  return key;
}

/** A clear reason when the CA does not answer at all (acme-client then fails with an internal TypeError). */
async function directoryReachable(r: AcmeRequest): Promise<void> {
  try {
    const res = await fetch(r.directoryUrl, {
      signal: AbortSignal.timeout(15_000),
      ...(r.directoryCaPem ? { tls: { ca: r.directoryCaPem } } : {}),
    });
    if (!res.ok) throw new BlockhostError("E_IO", `HTTP ${res.status}`);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new BlockhostError("E_IO", `ACME server ${r.directoryUrl} unreachable (${code ?? oneLine(e)})`, undefined, {
      cause: e,
    });
  }
}

/** Run one ACME order for `hostname` (new P-256 key) and return the issued chain. */
export async function obtainCertificate(r: AcmeRequest): Promise<IssuedCertificate> {
  // acme-client keeps one axios instance for the process; serve runs one order at a time.
  if (r.directoryCaPem) acme.axios.defaults.httpsAgent = new Agent({ ca: r.directoryCaPem });
  if (r.retry) {
    const settings = (acme.axios.defaults as unknown as { acmeSettings: Record<string, number> }).acmeSettings;
    settings.retryMaxAttempts = r.retry.attempts;
    settings.retryDefaultDelay = r.retry.delaySeconds;
  }
  await directoryReachable(r);
  const urlFile = `${r.accountKeyFile}.url`;
  const accountUrl = existsSync(urlFile) ? readFileSync(urlFile, "utf8").trim() : undefined;
  const client = new acme.Client({
    directoryUrl: r.directoryUrl,
    accountKey: await accountKey(r.accountKeyFile),
    accountUrl,
  });
  const [key, csr] = await acme.crypto.createCsr({ commonName: r.hostname, altNames: [r.hostname] });
  mkdirSync(r.challengeDir, { recursive: true, mode: 0o755 });
  const tokenFile = (token: string) => {
    if (!TOKEN_RE.test(token)) throw new BlockhostError("E_INVALID_INPUT", "the ACME server sent a malformed token");
    return join(r.challengeDir, token);
  };
  let certPem: string;
  try {
    certPem = await client.auto({
      csr,
      email: r.email,
      termsOfServiceAgreed: true,
      challengePriority: ["http-01"],
      skipChallengeVerification: r.selfCheck === false,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== "http-01")
          throw new BlockhostError("E_INVALID_INPUT", `unsupported challenge ${challenge.type}`);
        writeFileAtomic(tokenFile(challenge.token), keyAuthorization, { mode: 0o644 });
      },
      challengeRemoveFn: async (_authz, challenge) => {
        rmSync(tokenFile(challenge.token), { force: true });
      },
    });
  } catch (e) {
    if (e instanceof BlockhostError) throw e;
    throw new BlockhostError(
      "E_IO",
      `ACME order for ${r.hostname} at ${r.directoryUrl} failed: ${oneLine(e)}`,
      undefined,
      { cause: e },
    );
  }
  // Reusing the account URL skips acme-client's re-registration, an empty update some CAs refuse.
  if (!accountUrl) writeFileAtomic(urlFile, client.getAccountUrl(), { mode: 0o600 });
  const info = acme.crypto.readCertificateInfo(certPem);
  return { certPem, keyPem: key.toString(), notAfter: info.notAfter };
}
