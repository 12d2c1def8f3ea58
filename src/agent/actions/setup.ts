/** Setup-only agent actions of finalization: the host's TLS certificate, runtime services, the completion marker. */
import { existsSync } from "node:fs";
import { BlockhostError } from "../../core/errors.ts";
import { blockhostGid } from "../../core/fs.ts";
import { paths } from "../../core/paths.ts";
import { array, literal, object, str } from "../../core/schema.ts";
import { ensureSelfSigned } from "../../core/self-signed-cert.ts";
import { ensureServeTlsDir, serveTlsFiles } from "./tls.ts";
import { markSetupComplete, setupIsComplete } from "../setup-state.ts";
import { defineAction } from "./types.ts";

const hostName = str(/^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252}[A-Za-z0-9])?$/, "a host name or IP address", 253);

/**
 * A self-signed P-256 certificate (10 years) naming `hostname`, serve's until ACME replaces it.
 * The key is made here and never leaves root: 0640 root:blockhost so `serve` can read it.
 * A current certificate that already names the host is kept.
 */
export const tlsSelfSigned = defineAction({
  name: "tls-self-signed",
  params: object({ hostname: hostName }),
  timeoutMs: 60_000,
  setupOnly: true,
  handler: async (p, ctx) => {
    const files = serveTlsFiles();
    ensureServeTlsDir();
    const generated = await ensureSelfSigned(files, {
      names: [p.hostname],
      keyMode: 0o640,
      keyGid: blockhostGid() ?? 0,
      run: async (argv) => {
        await ctx.run("openssl", argv);
      },
    });
    return { cert_file: files.cert, key_file: files.key, generated };
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

/**
 * Write the setup-complete marker in the agent's own directory (setup-state.ts); from then on
 * every setup-only action (this one included) is refused.
 */
export const setupComplete = defineAction({
  name: "setup-complete",
  params: object({}),
  timeoutMs: 10_000,
  setupOnly: true,
  handler: async () => {
    if (setupIsComplete() || !markSetupComplete("setup-complete action"))
      throw new BlockhostError("E_SETUP_COMPLETE", "setup is already complete");
    return { file: paths.setupComplete };
  },
});
