/** Debian's pebble ACME test server (and its mock DNS, pebble-challtestsrv) on loopback for tests. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface Pebble {
  readonly directoryUrl: string;
  /** The CA that signed pebble's own HTTPS listener: trusted by the ACME client of the test only. */
  readonly apiCaPem: string;
  /** Port pebble validates http-01 on (the test's stand-in for port 80). */
  readonly httpPort: number;
  /** pebble's issuing root (from its management API), to check a certificate's chain. */
  rootPem(): Promise<string>;
  stop(): Promise<void>;
}

const PEBBLE = "/usr/bin/pebble";
const CHALLTESTSRV = "/usr/bin/pebble-challtestsrv";

/** Why this machine cannot run pebble, or undefined when it can. */
export function pebbleUnavailable(): string | undefined {
  if (!existsSync(PEBBLE) || !existsSync(CHALLTESTSRV)) return "pebble is not installed (apt-get install pebble)";
  if (!existsSync("/usr/bin/openssl")) return "openssl is not installed";
  return undefined;
}

/** A free loopback TCP port (closed again; pebble binds it right after). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["/usr/bin/openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.toString().trim()}`);
}

/** A throwaway CA and a 127.0.0.1/localhost certificate for pebble's API listener. */
function apiCertificate(dir: string): { cert: string; key: string; caPem: string } {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=blockhost test pebble API CA",
    ],
    dir,
  );
  openssl(["req", ...ec, "-keyout", "api.key", "-out", "api.csr", "-subj", "/CN=localhost"], dir);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "api.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "api.pem",
      "-days",
      "2",
      "-extfile",
      "san.ext",
    ],
    dir,
  );
  return { cert: join(dir, "api.pem"), key: join(dir, "api.key"), caPem: readFileSync(join(dir, "ca.pem"), "utf8") };
}

async function waitForHttps(url: string, ca: string, proc: Subprocess, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited ${proc.exitCode}`);
    try {
      await fetch(url, { tls: { ca } });
      return;
    } catch {
      await Bun.sleep(100);
    }
  }
  throw new Error(`${what} did not answer at ${url}`);
}

/**
 * Start pebble-challtestsrv as the DNS server (every name → 127.0.0.1, no AAAA) and pebble using
 * it, all on free loopback ports; pebble validates http-01 on `httpPort`.
 */
export async function startPebble(dir: string): Promise<Pebble> {
  mkdirSync(dir, { recursive: true });
  const api = apiCertificate(dir);
  const [dnsPort, mgmtPort, listenPort, pebbleMgmt, httpPort, tlsPort] = Array.from({ length: 6 }, freePort) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const dns = Bun.spawn(
    [
      CHALLTESTSRV,
      "-dns01",
      `127.0.0.1:${dnsPort}`,
      "-http01",
      "",
      "-https01",
      "",
      "-tlsalpn01",
      "",
      "-management",
      `127.0.0.1:${mgmtPort}`,
      "-defaultIPv4",
      "127.0.0.1",
      "-defaultIPv6",
      "",
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listenPort}`,
      managementListenAddress: `127.0.0.1:${pebbleMgmt}`,
      certificate: api.cert,
      privateKey: api.key,
      httpPort,
      tlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  };
  writeFileSync(join(dir, "pebble.json"), JSON.stringify(config));
  const pebble = Bun.spawn([PEBBLE, "-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
    env: { PATH: "/usr/bin:/bin", PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
    stdout: "ignore",
    stderr: Bun.file(join(dir, "pebble.log")),
  });
  const stop = async () => {
    for (const p of [pebble, dns]) p.kill();
    await Promise.all([pebble.exited, dns.exited]);
  };
  try {
    if (dns.exitCode !== null) throw new Error(`pebble-challtestsrv exited ${dns.exitCode}`);
    await waitForHttps(`https://127.0.0.1:${listenPort}/dir`, api.caPem, pebble, "pebble");
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    directoryUrl: `https://127.0.0.1:${listenPort}/dir`,
    apiCaPem: api.caPem,
    httpPort,
    rootPem: async () => (await fetch(`https://127.0.0.1:${pebbleMgmt}/roots/0`, { tls: { ca: api.caPem } })).text(),
    stop,
  };
}
