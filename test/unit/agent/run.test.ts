/** How the agent runs commands. */
import { expect, test } from "bun:test";
import { DEFAULT_BINARIES, type BinaryTable } from "../../../src/agent/binaries.ts";
import { FIXED_ENV, createRunner, lastLine, problemLine } from "../../../src/agent/run.ts";

/** The agent's command runner: argv only, fixed environment, caps, and kill on abort. */
const table = (path: string): BinaryTable => ({ ...DEFAULT_BINARIES, qm: path });
const sh = (signal = new AbortController().signal, options = {}) => createRunner(table("/bin/sh"), signal, options);

test("the child sees only the fixed environment and runs in /", async () => {
  process.env.BLOCKHOST_TEST_SECRET = "do-not-leak";
  try {
    const { stdout } = await createRunner(table("/usr/bin/env"), new AbortController().signal)("qm", []);
    expect(stdout.trim().split("\n").sort()).toEqual(
      Object.entries(FIXED_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .sort(),
    );
    expect((await sh()("qm", ["-c", "pwd"])).stdout).toBe("/\n");
  } finally {
    delete process.env.BLOCKHOST_TEST_SECRET;
  }
});

test("arguments are passed as argv, never through a shell", async () => {
  const { stdout } = await createRunner(table("/bin/echo"), new AbortController().signal)("qm", [
    "$(id)",
    "; rm -rf /",
    "`x`",
  ]);
  expect(stdout).toBe("$(id) ; rm -rf / `x`\n");
});

test("stdin reaches the child", async () => {
  expect((await sh()("qm", ["-c", "cat"], { stdin: "secret on stdin" })).stdout).toBe("secret on stdin");
});

test("a non-zero exit is E_COMMAND_FAILED with the last stderr line; okCodes accept others", async () => {
  await expect(sh()("qm", ["-c", "echo first >&2; echo 'the real reason' >&2; exit 3"])).rejects.toMatchObject({
    code: "E_COMMAND_FAILED",
    message: "qm exited 3: the real reason",
  });
  expect((await sh()("qm", ["-c", "exit 1"], { okCodes: [0, 1] })).code).toBe(1);
  await expect(sh()("qm", ["-c", "kill -9 $$"])).rejects.toMatchObject({
    code: "E_COMMAND_FAILED",
    message: "qm was killed by SIGKILL",
  });
});

test("output beyond the cap is read and dropped", async () => {
  const { stdout, stderr } = await sh(undefined, { outputCap: 1000 })("qm", [
    "-c",
    "head -c 300000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | tr '\\0' b >&2",
  ]);
  expect(stdout).toBe("a".repeat(1000));
  expect(stderr).toBe("b".repeat(1000));
});

test("an aborted action kills the command: E_TIMEOUT", async () => {
  await expect(sh(AbortSignal.timeout(100))("qm", ["-c", "sleep 60"])).rejects.toMatchObject({ code: "E_TIMEOUT" });
  await expect(sh(undefined, { timeoutMs: 100 })("qm", ["-c", "sleep 60"])).rejects.toMatchObject({
    code: "E_TIMEOUT",
    message: expect.stringContaining("qm did not finish"),
  });
  const aborted = new AbortController();
  aborted.abort();
  await expect(sh(aborted.signal)("qm", ["-c", "true"])).rejects.toMatchObject({ code: "E_TIMEOUT" });
});

test("a background child holding the output pipe does not hang the action", async () => {
  const { stdout } = await sh()("qm", ["-c", "sleep 5 & echo started"]);
  expect(stdout).toBe("started\n");
});

test("a binary that cannot start, or a relative path, is refused", async () => {
  await expect(createRunner(table("/nonexistent/qm"), new AbortController().signal)("qm", [])).rejects.toMatchObject({
    code: "E_COMMAND_FAILED",
  });
  await expect(createRunner(table("qm"), new AbortController().signal)("qm", [])).rejects.toMatchObject({
    code: "E_INTERNAL",
  });
  await expect(sh()("qm", ["a\0b"])).rejects.toMatchObject({ code: "E_INTERNAL" });
});

test("lastLine keeps the last non-empty line, bounded", () => {
  expect(lastLine("a\nb\n\n")).toBe("b");
  expect(lastLine("")).toBe("");
  expect(lastLine("x".repeat(400)).length).toBe(301);
});

test("problemLine skips the usage synopsis Proxmox prints last and keeps the reasons", () => {
  // PVE 8 qm, through pve-common RESTHandler (usage appended to parameter exceptions).
  expect(
    problemLine(
      "400 Parameter verification failed.\nipconfig0.ip: missing property - 'gw' requires this property\n\nqm set <vmid> [OPTIONS]\n",
    ),
  ).toBe("ipconfig0.ip: missing property - 'gw' requires this property");
  expect(
    problemLine(
      "400 Parameter verification failed.\nname: invalid format - value does not look like a valid DNS name\nstorage: storage ID '1x' contains illegal characters\n\nqm clone <vmid> <newid> [OPTIONS]\n",
    ),
  ).toBe(
    "name: invalid format - value does not look like a valid DNS name; storage: storage ID '1x' contains illegal characters",
  );
  expect(problemLine("Unknown option: hookscript\n400 unable to parse option\nqm set <vmid> [OPTIONS]\n")).toBe(
    "Unknown option: hookscript",
  );
  expect(problemLine("400 not enough arguments\nqm disk resize <vmid> <disk> <size> [OPTIONS]\n")).toBe(
    "400 not enough arguments",
  );
  expect(problemLine("trying to acquire lock...\nshrinking disks is not supported\n")).toBe(
    "shrinking disks is not supported",
  );
  expect(problemLine("")).toBe("");
});
