/** Paying in the stablecoin from the signup page: the shared check and approval, aimed at this page's host. */
import type { Address } from "viem";
import { ensureFunds as ensureFundsFor } from "../subscription-pay.ts";
import { payTarget } from "./page.ts";

/** Make `from` ready to pay `days` of plan `planId` in the primary stablecoin (payment method 1). */
export const ensureFunds = (from: Address, planId: bigint, days: bigint): Promise<void> =>
  ensureFundsFor(payTarget, from, planId, days);
