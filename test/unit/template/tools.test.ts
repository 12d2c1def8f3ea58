/** runTool: a tool that outlives its time limit is stopped and named as timed out. */
import { expect, test } from "bun:test";
import { runTool } from "../../../src/template/tools.ts";

test("a tool past its time limit is stopped with a timeout error naming it", async () => {
  // The test finishing at all shows `sleep 30` was stopped (bun's 5 s test timeout would fail it otherwise).
  const err = await runTool(["sleep", "30"], { timeoutMs: 1000 }).catch((e) => e);
  expect(err.code).toBe("E_TIMEOUT");
  expect(err.message).toBe("sleep did not finish within 1 s and was stopped");
});

test("a failing tool reports its exit code and stderr", async () => {
  const err = await runTool(["sh", "-c", "echo boom >&2; exit 3"]).catch((e) => e);
  expect(err.code).toBe("E_COMMAND_FAILED");
  expect(err.message).toBe("sh exited 3: boom");
});
