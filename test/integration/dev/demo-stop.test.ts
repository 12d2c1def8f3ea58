/**
 * Nothing `blockhost dev` made outlives it, however it is stopped: a signal to the demo process alone (as a
 * supervisor sends it) at any stage, or SIGKILL. Each test starts the compiled demo on the dry-run backend.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Subprocess } from "bun";
import { processAlive } from "../../../src/core/process.ts";
import { anvilAvailable } from "../../helpers/anvil.ts";
import { blockhostBinary } from "../../helpers/binary.ts";
import { eventually } from "../../helpers/engine-env.ts";

const skip = !anvilAvailable() ? "anvil cannot run on this platform" : process.getuid?.() !== 0 ? "needs root" : "";
if (skip) console.log(`skip: blockhost dev stop tests: ${skip}`);

/** A running demo whose stdout lines are collected as they come. */
class Demo {
  readonly proc: Subprocess<"ignore", "pipe", "inherit">;
  private out = "";

  constructor(args: string[]) {
    const proc = Bun.spawn([blockhostBinary(), "dev", "--backend", "dry-run", ...args], {
      cwd: "/",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
    });
    this.proc = proc;
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) this.out += decoder.decode(chunk, { stream: true });
    })();
  }

  get stdout(): string {
    return this.out;
  }

  /** Wait until a line matching `re` was printed (or fail when the demo exits first). */
  async until(re: RegExp): Promise<RegExpMatchArray> {
    return await eventually(() => {
      const m = this.out.match(re);
      if (m) return m;
      if (this.proc.exitCode !== null)
        throw new Error(`the demo exited (${this.proc.exitCode}) before ${re}:\n${this.out}`);
      return null;
    }, `demo output ${re}`);
  }

  get root(): string {
    return this.out.match(/^root +(\S+)$/m)![1]!;
  }

  /** Every process below the demo (agent, engine, serve, anvil and theirs), read from /proc. */
  descendants(pid = this.proc.pid): number[] {
    const children = readdirSync(`/proc/${pid}/task`, { withFileTypes: true }).flatMap((t) => {
      try {
        return readFileSync(`/proc/${pid}/task/${t.name}/children`, "utf8")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number);
      } catch {
        return [];
      }
    });
    return children.flatMap((c) => [c, ...this.descendantsSafe(c)]);
  }

  private descendantsSafe(pid: number): number[] {
    try {
      return this.descendants(pid);
    } catch {
      return [];
    }
  }
}

/** The demo's processes are all gone (reaped or exited), waiting on each one's exit. */
async function allGone(pids: number[]): Promise<void> {
  await eventually(() => pids.every((p) => !processAlive(p) || zombie(p)), `processes ${pids.join(", ")} gone`);
}

const zombie = (pid: number) => {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
};

describe.skipIf(Boolean(skip))("blockhost dev leaves nothing behind", () => {
  test("SIGTERM to the demo alone while it runs: exit 143, every VM destroyed (also one made by hand), no process left", async () => {
    const demo = new Demo(["--keep"]);
    try {
      await demo.until(/^Running\. Press Ctrl-C to stop\.$/m);
      const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", BLOCKHOST_ROOT: demo.root };
      const byHand = Bun.spawnSync(
        [
          blockhostBinary(),
          "vm",
          "create",
          "by-hand",
          "--owner-wallet",
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "--apply",
        ],
        { env },
      );
      expect(byHand.exitCode).toBe(0);
      const children = demo.descendants();
      expect(children.length).toBeGreaterThanOrEqual(4); // anvil, agent, engine, serve
      demo.proc.kill("SIGTERM");
      expect(await demo.proc.exited).toBe(143);
      await allGone(children);
      const vms = JSON.parse(
        Bun.spawnSync([blockhostBinary(), "vm", "list", "--json"], { env }).stdout.toString(),
      ) as Array<{ vm_name: string; status: string }>;
      expect(vms.map((v) => [v.vm_name, v.status]).sort()).toEqual([
        ["blockhost-001", "destroyed"],
        ["by-hand", "destroyed"],
      ]);
      expect(demo.stdout).toContain(`kept      ${demo.root}`);
    } finally {
      if (demo.proc.exitCode === null) demo.proc.kill("SIGKILL");
      rmSync(demo.root, { recursive: true, force: true });
    }
  }, 300_000);

  test("SIGINT to the demo alone while it waits for the engine: exit 130, no process left, the temporary root removed", async () => {
    const demo = new Demo([]);
    try {
      await demo.until(/^paid +subscription #\d+;/m);
      const children = demo.descendants();
      demo.proc.kill("SIGINT");
      expect(await demo.proc.exited).toBe(130);
      await allGone(children);
      expect(existsSync(demo.root)).toBe(false);
    } finally {
      if (demo.proc.exitCode === null) demo.proc.kill("SIGKILL");
    }
  }, 300_000);

  test("SIGKILL (no chance to clean up): the agent, engine, serve and anvil still end with it", async () => {
    const demo = new Demo([]);
    try {
      await demo.until(/^engine +watching the chain/m);
      const children = demo.descendants();
      expect(children.length).toBeGreaterThanOrEqual(3); // anvil, agent, engine
      demo.proc.kill("SIGKILL");
      await demo.proc.exited;
      await allGone(children);
    } finally {
      rmSync(demo.root, { recursive: true, force: true });
    }
  }, 300_000);
});
