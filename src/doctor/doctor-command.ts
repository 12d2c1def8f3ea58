/** `blockhost doctor`: check this host end to end, one line per check, a fix for each failure. */
import { defineCommand } from "citty";
import { AgentClient } from "../agent/client.ts";
import { BlockhostError } from "../core/errors.ts";
import { green, printJson, red, yellow } from "../core/output.ts";
import { chainChecks } from "./chain.ts";
import { clusterCheck } from "./cluster.ts";
import type { CheckResult } from "./check.ts";
import { configChecks, keyChecks, modeChecks } from "./files.ts";
import { agentCheck, backendCheck, diskChecks, poolChecks, serviceChecks } from "./host.ts";

/** Every check, in the order an operator would fix them. */
export async function runDoctor(agent = new AgentClient({ timeoutMs: 30_000 })): Promise<CheckResult[]> {
  const { results: config, web3 } = configChecks();
  const agentResult = await agentCheck(agent);
  return [
    ...config,
    ...modeChecks(),
    ...keyChecks(web3),
    ...(await chainChecks(web3)),
    agentResult,
    await backendCheck(agent, agentResult.status === "ok"),
    ...(await clusterCheck(agent, agentResult.status === "ok")),
    ...(await serviceChecks()),
    ...diskChecks(),
    ...poolChecks(),
  ];
}

const LABEL = { ok: green("ok  "), fail: red("FAIL"), skip: yellow("skip") };

export default defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check this host: config, file modes, keys, chain, contracts, agent, hypervisor, services, disk, pools",
    examples: ["blockhost doctor", "blockhost doctor --json"],
  },
  args: { json: { type: "boolean", description: "Print JSON: ok or not, and each check with its detail and fix" } },
  async run({ args }) {
    const checks = await runDoctor();
    const failed = checks.filter((c) => c.status === "fail");
    if (args.json) printJson({ ok: failed.length === 0, checks });
    else
      for (const c of checks)
        process.stdout.write(`${LABEL[c.status]}  ${c.name}: ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ""}\n`);
    if (failed.length > 0)
      throw new BlockhostError("E_STATE", `${failed.length} of ${checks.length} checks failed`, {
        failed: failed.map((c) => c.name),
      });
  },
});
