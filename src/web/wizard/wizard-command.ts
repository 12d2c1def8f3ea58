/** `blockhost wizard`: the first-boot setup wizard over HTTPS (self-signed, fingerprint on the console), gated by a one-time code on the console. */
import { defineCommand } from "citty";
import { existsSync, mkdirSync } from "node:fs";
import { isIP } from "node:net";
import { AgentClient } from "../../agent/client.ts";
import { BlockhostError } from "../../core/errors.ts";
import { logEvent } from "../../core/log.ts";
import { paths } from "../../core/paths.ts";
import { openDatabase } from "../../core/state/db.ts";
import { createWizardApp } from "./app.ts";
import { OtpStore } from "./otp.ts";
import { hostAddresses, wizardCertificate } from "./tls.ts";
import { untilStopSignal } from "../../core/stop-signal.ts";

export const DEFAULT_WIZARD_PORT = 8443;

const wizardUrl = (address: string, port: number) => {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return port === 443 ? `https://${host}/` : `https://${host}:${port}/`;
};

/**
 * What the console shows, one fact per line in a fixed form (`URL: `, `Certificate SHA-256: `,
 * `Code: `) so the installer's first-boot screen and tests can read it.
 */
export function consoleLines(urls: string[], fingerprint: string, code: string): string {
  const shown = urls.length ? urls : ["https://<this host's address>/"];
  return [
    "BlockHost setup wizard",
    ...shown.map((u) => `URL: ${u}`),
    `Certificate SHA-256: ${fingerprint}`,
    `Code: ${code}`,
    "Check that your browser shows this certificate fingerprint before you type the code (valid 4 hours).",
    "",
  ].join("\n");
}

export default defineCommand({
  meta: {
    name: "wizard",
    description:
      "Run the web setup wizard of a new host over HTTPS (self-signed: check the certificate fingerprint it prints, then log in with the one-time code; stops working once set up)",
    examples: ["blockhost wizard", "blockhost wizard --listen 127.0.0.1 --port 8444"],
  },
  args: {
    listen: {
      type: "string",
      description: "Address to listen on (default 0.0.0.0, every IPv4 address)",
      valueHint: "ADDRESS",
    },
    port: {
      type: "string",
      description: `Port (default ${DEFAULT_WIZARD_PORT}; 0 = any free port)`,
      valueHint: "PORT",
    },
  },
  async run({ args }) {
    if (existsSync(paths.setupComplete))
      throw new BlockhostError(
        "E_SETUP_COMPLETE",
        `setup is complete (${paths.setupComplete}); the wizard no longer runs`,
      );
    const listen = args.listen ?? "0.0.0.0";
    if (!isIP(listen)) throw new BlockhostError("E_USAGE", "--listen: expected an IP address");
    if (args.port !== undefined && !/^\d{1,5}$/.test(args.port))
      throw new BlockhostError("E_USAGE", "--port: expected a port number");
    const port = args.port === undefined ? DEFAULT_WIZARD_PORT : args.port === "0" ? 0 : Number(args.port);
    if (port > 65_535) throw new BlockhostError("E_USAGE", "--port: expected a port number from 0 to 65535");
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o750 });
    const otp = new OtpStore(paths.wizardOtp);
    const code = otp.current();
    const everywhere = listen === "0.0.0.0" || listen === "::";
    const tls = await wizardCertificate(everywhere ? undefined : [listen]);
    const { app } = createWizardApp({ otp, db: openDatabase(), agent: new AgentClient(), tls: true });
    const server = Bun.serve({
      hostname: listen,
      port,
      fetch: app.fetch,
      idleTimeout: 30,
      maxRequestBodySize: 256 * 1024,
      tls: { cert: tls.cert, key: tls.key },
    });
    const urls = (everywhere ? hostAddresses(listen === "0.0.0.0") : [listen]).map((a) =>
      wizardUrl(a, server.port ?? port),
    );
    // The console only (the unit sends stdout to the console, not the journal): the code is a secret.
    process.stdout.write(consoleLines(urls, tls.fingerprint, code));
    logEvent("wizard.listening", { address: listen, port: server.port, urls, certificate_sha256: tls.fingerprint });
    await untilStopSignal();
    server.stop(true);
  },
});
