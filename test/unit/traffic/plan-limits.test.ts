/** blockhost.yaml plans.<id> traffic and disk keys: allowlisted, the rules between them refused at the key (exit 78). */
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadBlockhostConfig } from "../../../src/core/config/index.ts";
import { planLimits } from "../../../src/core/config/plan-limits.ts";
import { blockhostConfigSchema } from "../../../src/core/config/schemas.ts";
import { type BlockhostError, exitCodeFor } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/binary.ts";

const size = "cpu: 1, memory_mb: 1024, disk_gb: 10";
let tmp: { dir: string; cleanup: () => void } | undefined;
afterEach(() => tmp?.cleanup());

function load(plan: string): ReturnType<typeof loadBlockhostConfig> {
  tmp = tempDir("bh-plan-");
  const path = join(tmp.dir, "blockhost.yaml");
  writeFileSync(path, `server: {key_file: /etc/blockhost/server.key}\nplans:\n  "3": {${size}, ${plan}}\n`);
  return loadBlockhostConfig(path);
}
function refusal(plan: string): BlockhostError {
  try {
    load(plan);
  } catch (e) {
    return e as BlockhostError;
  }
  throw new Error(`accepted: ${plan}`);
}

describe("plan limits in blockhost.yaml", () => {
  test("a full traffic plan loads, with GB as 10^9 bytes and the overage action as given", () => {
    const plan = load(
      "traffic_gb_month: 1000, rate_mbit: 200, overage: throttle, throttled_mbit: 10, iops: 2000, mbps: 150",
    ).plans?.["3"];
    expect(planLimits(plan!)).toEqual({
      quotaBytes: 1e12,
      rateMbit: 200,
      overage: "throttle",
      throttledMbit: 10,
      iops: 2000,
      diskMbps: 150,
    });
  });

  test("a quota alone throttles to Convoy's 1 MB/s (8 Mbit/s); a plan without limits bounds nothing", () => {
    expect(planLimits(load("traffic_gb_month: 0.05").plans!["3"]!)).toMatchObject({
      quotaBytes: 50_000_000,
      overage: "throttle",
      throttledMbit: 8,
      rateMbit: null,
    });
    expect(planLimits(load("rate_mbit: 4").plans!["3"]!).throttledMbit).toBe(4);
    expect(
      planLimits(
        blockhostConfigSchema.parse({
          server: { key_file: "/k" },
          plans: { 1: { cpu: 1, memory_mb: 512, disk_gb: 1 } },
        }).plans!["1"]!,
      ),
    ).toEqual({
      quotaBytes: null,
      rateMbit: null,
      overage: "throttle",
      throttledMbit: 8,
      iops: null,
      diskMbps: null,
    });
  });

  const cases: Array<[string, string, string]> = [
    ["an unknown overage action", "traffic_gb_month: 10, overage: delete", "plans.3.overage: expected one of"],
    [
      "an overage without a quota",
      "overage: throttle",
      "plans.3.overage: expected overage only together with traffic_gb_month",
    ],
    [
      "a throttle rate without a quota",
      "throttled_mbit: 5",
      "plans.3.throttled_mbit: expected throttled_mbit only together",
    ],
    [
      "a throttle rate with suspend-network",
      "traffic_gb_month: 10, overage: suspend-network, throttled_mbit: 5",
      "plans.3.throttled_mbit: expected throttled_mbit only with overage: throttle",
    ],
    [
      "a throttle at or above the plan's rate",
      "traffic_gb_month: 10, rate_mbit: 20, throttled_mbit: 20",
      "plans.3.throttled_mbit: expected a throttled rate below rate_mbit (20)",
    ],
    ["a fractional rate", "rate_mbit: 2.5", "plans.3.rate_mbit: expected an integer"],
    ["a negative quota", "traffic_gb_month: -1", "plans.3.traffic_gb_month: expected a number"],
    ["iops below 10", "iops: 0", "plans.3.iops: expected an integer from 10"],
    ["a typo'd key", "trafic_gb_month: 10", "plans.3.trafic_gb_month: unknown key"],
  ];
  for (const [name, plan, message] of cases)
    test(`refused: ${name} (E_CONFIG_INVALID, exit 78, the key named)`, () => {
      const e = refusal(plan);
      expect(e.code).toBe("E_CONFIG_INVALID");
      expect(e.message).toContain(message);
      expect(exitCodeFor(e)).toBe(78);
    });
});
