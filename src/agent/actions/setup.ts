/** Setup-only agent actions of finalization: the host's TLS certificate, runtime services, the completion marker. */
import { chmodSync, chownSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { BlockhostError } from "../../core/errors.ts";
import { paths } from "../../core/paths.ts";
import { array, literal, object, str } from "../../core/schema.ts";
import { certificateCovers } from "../../vmauth/signing-page/tls.ts";
import { blockhostGid, ensureDirUnder, writeFileAtomic } from "../../core/fs.ts";
import { ensureServeTlsDir } from "./tls.ts";
import { defineAction } from "./types.ts";

const hostName = str(/^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252}[A-Za-z0-9])?$/, "a host name or IP address", 253);

/**
 * A self-signed P-256 certificate (10 years) naming `hostname`, in <config>/tls/{cert,key}.pem.
 * The key is made here and never leaves root: 0640 root:blockhost so `serve` can read it.
 * A current certificate that already names the host is kept.
 */
export const tlsSelfSigned = defineAction({
  name: "tls-self-signed",
  params: object({ hostname: hostName }),
  timeoutMs: 60_000,
  setupOnly: true,
  handler: async (p, ctx) => {
    const cert = paths.tlsCert;
    const key = paths.tlsKey;
    if (existsSync(key) && certificateCovers(cert, p.hostname))
      return { cert_file: cert, key_file: key, generated: false };
    ensureServeTlsDir();
    const work = mkdtempSync(join(paths.tlsDir, ".new-"));
    try {
      const san = isIP(p.hostname) ? `IP:${p.hostname}` : `DNS:${p.hostname}`;
      await ctx.run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "3650",
        "-subj",
        `/CN=${p.hostname}`,
        "-addext",
        `subjectAltName=${san}`,
        "-keyout",
        join(work, "key.pem"),
        "-out",
        join(work, "cert.pem"),
      ]);
      const gid = blockhostGid();
      if (process.getuid?.() === 0) chownSync(join(work, "key.pem"), 0, gid ?? 0);
      chmodSync(join(work, "key.pem"), 0o640);
      chmodSync(join(work, "cert.pem"), 0o644);
      renameSync(join(work, "key.pem"), key);
      renameSync(join(work, "cert.pem"), cert);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return { cert_file: cert, key_file: key, generated: true };
  },
});

/** The only units finalization may enable. */
export const RUNTIME_UNITS = ["blockhost-engine.service", "blockhost-serve.service", "blockhost-gc.timer"] as const;

/**
 * `systemctl enable --now` for allowlisted runtime units. Where systemd is not PID 1 (containers,
 * CI) or the agent serves a test root rather than `/`, nothing is enabled and the reply says why.
 */
export const serviceEnable = defineAction({
  name: "service-enable",
  params: object({ units: array(literal(...RUNTIME_UNITS), 1, RUNTIME_UNITS.length) }),
  timeoutMs: 120_000,
  setupOnly: true,
  handler: async (p, ctx) => {
    if (paths.root !== "/")
      return { enabled: [] as string[], skipped: `BLOCKHOST_ROOT is ${paths.root}, not /: units not enabled` };
    // sd_booted(): systemd is PID 1 exactly when /run/systemd/system exists.
    if (!existsSync("/run/systemd/system"))
      return { enabled: [] as string[], skipped: "systemd is not running as PID 1: units not enabled" };
    await ctx.run("systemctl", ["enable", "--now", ...p.units]);
    return { enabled: [...p.units], skipped: "" };
  },
});

/** Write <state>/.setup-complete; from then on every setup-only action (this one included) is refused. */
export const setupComplete = defineAction({
  name: "setup-complete",
  params: object({}),
  timeoutMs: 10_000,
  setupOnly: true,
  handler: async () => {
    if (existsSync(paths.setupComplete)) throw new BlockhostError("E_SETUP_COMPLETE", "setup is already complete");
    ensureDirUnder(paths.root, paths.stateDir, 0o750);
    writeFileAtomic(paths.setupComplete, `${new Date().toISOString()}\n`, { mode: 0o644, noClobber: true });
    return { file: paths.setupComplete };
  },
});
