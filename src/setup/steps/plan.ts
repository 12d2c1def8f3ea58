/** Step `plan`: the primary stablecoin and the plan (an identical existing plan is reused), with its VM size. */
import { encodeFunctionData, isAddressEqual, parseEventLogs, type Hex } from "viem";
import { blockhostSubscriptionsAbi as abi } from "../../chain/contracts/generated/BlockhostSubscriptions.ts";
import { onChain } from "../../chain/errors.ts";
import { BlockhostError } from "../../core/errors.ts";
import { sendOnce } from "../chain-tx.ts";
import { deployerAccount, resultOf, type SetupContext } from "../context.ts";
import { renderBlockhostYaml } from "../render.ts";
import { writeConfig, type SetupStep } from "./types.ts";

async function ensureStablecoin(ctx: SetupContext, subscriptions: Hex): Promise<boolean> {
  const read = ctx.access.publicClient;
  const current = await onChain("read the primary stablecoin", () =>
    read.readContract({ address: subscriptions, abi, functionName: "getPrimaryStablecoin" }),
  );
  if (isAddressEqual(current, ctx.stablecoin)) return false;
  const data = encodeFunctionData({ abi, functionName: "setPrimaryStablecoin", args: [ctx.stablecoin] });
  await sendOnce(
    ctx,
    `stablecoin:${ctx.stablecoin.toLowerCase()}`,
    deployerAccount(),
    { to: subscriptions, data },
    "set the primary stablecoin",
  );
  return true;
}

/** The id of an active plan with this name and price, if the contract has one. */
async function findPlan(
  ctx: SetupContext,
  subscriptions: Hex,
  name: string,
  cents: bigint,
): Promise<bigint | undefined> {
  const read = ctx.access.publicClient;
  const count = await onChain("read the plan count", () =>
    read.readContract({ address: subscriptions, abi, functionName: "getTotalPlanCount" }),
  );
  for (let id = 1n; id <= count; id++) {
    const [planName, price, active] = await onChain(`read plan ${id}`, () =>
      read.readContract({ address: subscriptions, abi, functionName: "getPlan", args: [id] }),
    );
    if (planName === name && price === cents && active) return id;
  }
  return undefined;
}

export const plan: SetupStep = {
  name: "plan",
  title: "stablecoin and plan",
  async run(ctx) {
    const subscriptions = resultOf(ctx, "contracts").subscriptions as Hex;
    const { name, price_cents_per_day } = ctx.file.plan;
    const cents = BigInt(price_cents_per_day);
    const stablecoinSet = await ensureStablecoin(ctx, subscriptions);
    let planId = await findPlan(ctx, subscriptions, name, cents);
    const reused = planId !== undefined;
    if (planId === undefined) {
      const data = encodeFunctionData({ abi, functionName: "createPlan", args: [name, cents] });
      const receipt = await sendOnce(
        ctx,
        `plan:${name}:${cents}`,
        deployerAccount(),
        { to: subscriptions, data },
        "create the plan",
      );
      const [created] = parseEventLogs({ abi, logs: receipt.logs, eventName: "PlanCreated" });
      if (!created)
        throw new BlockhostError(
          "E_CHAIN",
          `create the plan: transaction ${receipt.transactionHash} emitted no PlanCreated`,
        );
      planId = created.args.planId;
    }
    const result = { plan_id: Number(planId), reused, stablecoin: ctx.stablecoin, stablecoin_set: stablecoinSet };
    // The engine sizes every subscription of this plan from blockhost.yaml `plans:`.
    await writeConfig(ctx, "blockhost.yaml", renderBlockhostYaml(ctx, result.plan_id));
    return result;
  },
};
