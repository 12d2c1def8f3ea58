/** blockhost.yaml `plans:` sizes the VMs of each plan; a plan without an entry gets the documented default. */
import { expect, test } from "bun:test";
import { blockhostConfigSchema, DEFAULT_PLAN_SIZE } from "../../../src/core/config/schemas.ts";
import { planSize } from "../../../src/engine/settings.ts";

const base = { server: { key_file: "/etc/blockhost/server.key" } };

test("a plan listed in blockhost.yaml gets its size, any other plan the default", () => {
  const cfg = blockhostConfigSchema.parse({ ...base, plans: { 2: { cpu: 4, memory_mb: 8192, disk_gb: 80 } } });
  const settings = { planSizes: cfg.plans ?? {} };
  expect(planSize(settings, 2)).toEqual({ cpu: 4, memory_mb: 8192, disk_gb: 80 });
  expect(planSize(settings, 1)).toEqual(DEFAULT_PLAN_SIZE);
  expect(DEFAULT_PLAN_SIZE).toEqual({ cpu: 1, memory_mb: 2048, disk_gb: 20 });
});

test("plan entries are validated: id, and every size within range", () => {
  expect(() =>
    blockhostConfigSchema.parse({ ...base, plans: { 0: { cpu: 1, memory_mb: 2048, disk_gb: 20 } } }),
  ).toThrow("plans.0: expected a plan id");
  expect(() =>
    blockhostConfigSchema.parse({ ...base, plans: { 1: { cpu: 0, memory_mb: 2048, disk_gb: 20 } } }),
  ).toThrow("plans.1.cpu");
  expect(() => blockhostConfigSchema.parse({ ...base, plans: { 1: { cpu: 1, memory_mb: 2048 } } })).toThrow(
    "plans.1.disk_gb",
  );
});
