/** `blockhost wallet plan list`: the contract's plans with price and active flag. */
import { defineCommand } from "citty";
import { readPlans } from "../chain/plans.ts";
import { printJson, printTable } from "../core/output.ts";
import { formatUsd } from "./amounts.ts";
import { WalletEnv } from "./env.ts";

export const planList = defineCommand({
  meta: {
    name: "list",
    description: "List the subscription plans on the chain: id, name, price per day, active or not",
    examples: ["blockhost wallet plan list", "blockhost wallet plan list --json"],
  },
  args: { json: { type: "boolean", description: "Print JSON: each plan's id, name, price per day and active flag" } },
  async run({ args }) {
    const env = WalletEnv.load();
    const plans = await readPlans(env.access.publicClient, env.subscriptions);
    if (args.json) return printJson(plans);
    printTable(
      ["ID", "NAME", "PRICE/DAY", "ACTIVE"],
      plans.map((p) => [p.id, p.name, formatUsd(BigInt(p.price_cents_per_day)), p.active ? "yes" : "no"]),
    );
  },
});
