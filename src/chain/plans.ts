/** Read the subscription contract's plans (id, name, price, active flag). */
import type { Hex, PublicClient } from "viem";
import { blockhostSubscriptionsAbi as abi } from "./contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "./errors.ts";

/** One plan as `wallet plan list --json` prints it. */
export interface PlanRow {
  id: number;
  name: string;
  price_cents_per_day: number;
  active: boolean;
}

/** Every plan the contract has (ids from 1), active or not, at most `max`. */
export async function readPlans(client: PublicClient, subscriptions: Hex, max = 1000): Promise<PlanRow[]> {
  const count = await onChain("read the plan count", () =>
    client.readContract({ address: subscriptions, abi, functionName: "getTotalPlanCount" }),
  );
  const ids = Array.from({ length: Math.min(Number(count), max) }, (_, i) => i + 1);
  return await Promise.all(
    ids.map(async (id) => {
      const [name, cents, active] = await onChain(`read plan ${id}`, () =>
        client.readContract({ address: subscriptions, abi, functionName: "getPlan", args: [BigInt(id)] }),
      );
      return { id, name, price_cents_per_day: Number(cents), active };
    }),
  );
}
