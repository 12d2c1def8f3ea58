/** The provisioning state of one subscription as a customer sees it, from the engine's tables. */
import type { Database } from "bun:sqlite";
import { jobByKey } from "../../core/state/jobs.ts";
import { getSubscription } from "../../core/state/subscriptions.ts";
import { vmForSubscription } from "../../core/state/vms.ts";
import { jobKey } from "../../engine/events.ts";

export type ProvisioningState =
  | "unseen"
  | "paid"
  | "creating_vm"
  | "minting"
  | "ready"
  | "failed"
  | "cancelled"
  | "destroyed";

export interface SubscriptionStatus {
  subscription_id: number;
  state: ProvisioningState;
  /** The engine will try again by itself (a failed attempt, not a dead job). */
  retrying: boolean;
  vm_name: string | null;
  nft_token_id: number | null;
  expires_at: string | null;
  /** The NFT holds the connection details sealed for its buyer (false: read them through the page). */
  details_in_nft: boolean | null;
  last_error: string | null;
}

export function subscriptionStatus(db: Database, chainId: number, id: number): SubscriptionStatus {
  const out: SubscriptionStatus = {
    subscription_id: id,
    state: "unseen",
    retrying: false,
    vm_name: null,
    nft_token_id: null,
    expires_at: null,
    details_in_nft: null,
    last_error: null,
  };
  const seen = getSubscription(db, chainId, id);
  if (!seen) return out;
  out.expires_at = new Date(seen.expires_at * 1000).toISOString();
  const job = jobByKey(db, jobKey.provision(chainId, id));
  const vm = vmForSubscription(db, id);
  if (job?.last_error && job.state !== "done") {
    out.last_error = job.last_error.split("\n")[0]!.slice(0, 300);
    out.retrying = job.state !== "dead";
  }
  if (vm) {
    out.vm_name = vm.vm_name;
    out.expires_at = vm.expires_at;
    if (vm.nft_minted) {
      out.nft_token_id = vm.nft_token_id;
      out.details_in_nft = typeof vm.extra.credential_problem !== "string";
    }
  }
  if (seen.cancelled === 1) out.state = "cancelled";
  else if (vm?.status === "destroyed") out.state = "destroyed";
  else if (job?.state === "dead") out.state = "failed";
  else if (vm?.nft_minted) out.state = "ready";
  else if (vm && vm.status !== "creating") out.state = out.last_error ? "failed" : "minting";
  else if (vm) out.state = out.last_error ? "failed" : "creating_vm";
  else out.state = out.last_error ? "failed" : "paid";
  return out;
}
