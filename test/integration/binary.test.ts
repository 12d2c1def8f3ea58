/** The compiled binary: help, version, exit codes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBlockhost, tempDir } from "../helpers/binary.ts";

describe("the compiled binary", () => {
  let hostile: { dir: string; cleanup: () => void };
  beforeAll(() => {
    // A directory an attacker controls: a bunfig.toml preload and a .env, both of which a
    // normal `bun` process would load from its working directory.
    hostile = tempDir("blockhost-hostile-");
    writeFileSync(
      join(hostile.dir, "evil.ts"),
      `require("node:fs").writeFileSync(${JSON.stringify(join(hostile.dir, "PWNED"))}, "preload ran");\n`,
    );
    writeFileSync(join(hostile.dir, "bunfig.toml"), `preload = ["./evil.ts"]\n[run]\npreload = ["./evil.ts"]\n`);
    writeFileSync(join(hostile.dir, ".env"), `BLOCKHOST_ROOT=${join(hostile.dir, "evil-root")}\n`);
  });
  afterAll(() => hostile.cleanup());

  test("--version and --help work from any directory", async () => {
    const version = await runBlockhost(["--version"], { cwd: "/tmp" });
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^blockhost \d+\.\d+\.\d+\n$/);
    const help = await runBlockhost(["--help"], { cwd: "/" });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage:");
    expect(help.stdout).toContain("agent");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what a colour code starts with
    expect(help.stdout).not.toMatch(/\x1b\[/); // no colour codes when not on a terminal
  });

  test("loads neither a bunfig.toml preload nor a .env from its working directory", async () => {
    // No BLOCKHOST_ROOT in the environment: only the .env could set one.
    const r = await runBlockhost(["agent", "call", "ping", "--socket", join(hostile.dir, "no-such.sock")], {
      cwd: hostile.dir,
      env: { BLOCKHOST_DEBUG: "1" },
    });
    expect(existsSync(join(hostile.dir, "PWNED"))).toBe(false);
    expect(r.code).toBe(1);
    const env = await runBlockhost(["agent", "call", "ping"], { cwd: hostile.dir });
    expect(env.stderr).not.toContain("evil-root");
    expect(env.stderr).toContain("/run/blockhost/root-agent.sock");
    const bare = await runBlockhost(["--version"], { cwd: hostile.dir });
    expect(bare.code).toBe(0);
    expect(existsSync(join(hostile.dir, "PWNED"))).toBe(false);
  });

  test("a bun process in the same directory would have run the preload (the test can fail)", async () => {
    const proc = Bun.spawn([process.execPath, "-e", "1"], { cwd: hostile.dir, stdout: "ignore", stderr: "ignore" });
    await proc.exited;
    expect(existsSync(join(hostile.dir, "PWNED"))).toBe(true);
    Bun.spawnSync(["rm", "-f", join(hostile.dir, "PWNED")]);
  });

  test("unknown commands and options are usage errors (exit 2) with one line", async () => {
    const cmd = await runBlockhost(["frobnicate"]);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr.trim().split("\n")).toHaveLength(1);
    const opt = await runBlockhost(["agent", "--sokcet", "/x"]);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("unknown option --sokcet");
  });
});
