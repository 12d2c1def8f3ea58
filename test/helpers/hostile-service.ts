/** Run code as a compromised `blockhost` service account (its real uid and gid, via setpriv) against a real agent. */
import { accessSync, chmodSync, chownSync, constants, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./binary.ts";
import { ensureServiceAccount } from "./service-account.ts";

export interface HostileService {
  readonly uid: number;
  readonly gid: number;
  /** argv run as the service account; resolves to its exit code and output. */
  run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Start `flip STOP A B …` (renameat2 exchange loop) as the account; stop() ends it and returns its swap count. */
  flip(pairs: Array<[string, string]>): { stop(): Promise<number> };
  /** Send requests to the agent over one connection as the account; one reply per request, in order. */
  call(
    socket: string,
    requests: Array<{ action: string; params: Record<string, unknown> }>,
  ): Promise<Array<Record<string, unknown>>>;
  /** Connect to a console session socket as the account and send `text`: what it got back, or the errno code. */
  console(socket: string, text: string): Promise<{ connected?: boolean; received?: string; error?: string }>;
}

/**
 * The attacker of the agent's threat model: the real `blockhost` account (uid and primary gid,
 * no other groups), running the standalone script test/fixtures/attacker/hostile-service.ts with
 * Bun. `workDir` (made 0755 here) holds the script and a Bun executable the account can reach.
 */
export function hostileService(workDir: string): HostileService {
  const { uid, gid } = ensureServiceAccount();
  mkdirSync(workDir, { recursive: true });
  chmodSync(workDir, 0o755);
  const script = join(workDir, "hostile-service.ts");
  copyFileSync(join(REPO, "test/fixtures/attacker/hostile-service.ts"), script);
  chmodSync(script, 0o644);
  let bun = process.execPath;
  if (!reachableBy(uid, gid, bun)) {
    bun = join(workDir, "bun");
    copyFileSync(process.execPath, bun);
    chmodSync(bun, 0o755);
  }
  const as = (argv: string[]) => ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", ...argv];
  const spawn = (argv: string[]) =>
    Bun.spawn(as(argv), { cwd: workDir, env: { PATH: "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe" });
  let calls = 0;
  return {
    uid,
    gid,
    async run(argv) {
      const p = spawn(argv);
      const [stdout, stderr, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      return { code, stdout, stderr };
    },
    flip(pairs) {
      const stopFile = join(workDir, `stop-${Math.random().toString(36).slice(2)}`);
      const p = spawn([bun, script, "flip", stopFile, ...pairs.flat()]);
      return {
        async stop() {
          writeFileSync(stopFile, "");
          const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
          return (JSON.parse(out.trim() || "{}") as { swaps?: number }).swaps ?? -1;
        },
      };
    },
    async call(socket, requests) {
      const file = join(workDir, `requests-${++calls}.json`);
      writeFileSync(file, JSON.stringify(requests));
      chownSync(file, uid, gid);
      const r = await this.run([bun, script, "call", socket, file]);
      if (r.code !== 0) throw new Error(`hostile call failed (${r.code}): ${r.stderr.trim()}`);
      return r.stdout
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    async console(socket, text) {
      const r = await this.run([bun, script, "console", socket, text]);
      if (r.code !== 0) throw new Error(`hostile console failed (${r.code}): ${r.stderr.trim()}`);
      return JSON.parse(r.stdout.trim()) as { connected?: boolean; received?: string; error?: string };
    },
  };
}

/** Whether uid/gid could execute `file` (every parent searchable): checked by the account itself. */
function reachableBy(uid: number, gid: number, file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return false;
  }
  const r = Bun.spawnSync(["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "test", "-x", file]);
  return r.exitCode === 0;
}
