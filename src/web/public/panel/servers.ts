/** "My servers": which servers a wallet holds (read from the chain) and how each looks to its holder (from the database). */
import type { Database } from "bun:sqlite";
import type { Hex } from "viem";
import { lastVmJob, unfinishedVmJob } from "../../../core/state/jobs.ts";
import { getSubscription } from "../../../core/state/subscriptions.ts";
import { getVm, vmForToken, type VmRecord } from "../../../core/state/vms.ts";
import { TEMPLATE_OSES, isOsId } from "../../../core/template/os.ts";
import type { ServeDeps } from "../deps.ts";

/** One server as its holder sees it; `state` is what the page shows and the SSE stream sends. */
export interface ServerView {
  name: string;
  token_id: number;
  state:
    | "running"
    | "stopped"
    | "suspended"
    | "creating"
    | "starting"
    | "shutting down"
    | "rebooting"
    | "reinstalling"
    | "powering off"
    | "destroyed";
  /** A lifecycle job is queued or running. */
  busy: boolean;
  /** The last action's failure, when it failed (one line). */
  problem: string | null;
  plan: string | null;
  cpu: number;
  memory_mb: number;
  disk_gb: number;
  os: string;
  ipv4: string | null;
  ipv6: string | null;
  expires_at: string;
  subscription_id: number | null;
  ssh: string;
}

const BUSY_WORD: Record<string, ServerView["state"]> = {
  start: "starting",
  shutdown: "shutting down",
  reboot: "rebooting",
  off: "powering off",
  reinstall: "reinstalling",
};

/** The view of one VM row (no chain read): the job in flight wins over the recorded power state. */
export function serverView(db: Database, chainId: number, vm: VmRecord, plans: Map<number, string>): ServerView {
  const job = unfinishedVmJob(db, vm.vm_name);
  const last = job ? null : lastVmJob(db, vm.vm_name);
  const power = vm.extra.power === "stopped" ? "stopped" : "running";
  const state: ServerView["state"] = job
    ? (BUSY_WORD[String(job.payload.action)] ?? "running")
    : vm.status === "active"
      ? power
      : vm.status;
  const sub = vm.subscription_id === null ? null : getSubscription(db, chainId, vm.subscription_id);
  const os = String(vm.extra.os ?? "debian-12");
  const address = vm.ipv6_address ?? vm.ip_address ?? "";
  return {
    name: vm.vm_name,
    token_id: vm.nft_token_id ?? -1,
    state,
    busy: job !== null,
    problem: last?.state === "dead" ? (last.last_error ?? "failed").split("\n")[0]!.slice(0, 200) : null,
    plan: sub ? (plans.get(sub.plan_id) ?? `plan ${sub.plan_id}`) : null,
    cpu: vm.cpu,
    memory_mb: vm.memory_mb,
    disk_gb: vm.disk_gb,
    os: isOsId(os) ? TEMPLATE_OSES[os].label : os,
    ipv4: vm.ip_address,
    ipv6: vm.ipv6_address,
    expires_at: vm.expires_at,
    subscription_id: vm.subscription_id,
    ssh: `ssh ${vm.username}@${address}`,
  };
}

/** The live servers whose access NFT `wallet` holds now (ERC-721 enumeration on the chain). */
export async function heldServers(deps: ServeDeps, wallet: Hex): Promise<VmRecord[]> {
  const tokens = await deps.chain.tokensOf(wallet);
  return tokens
    .map((t) => vmForToken(deps.db, Number(t)))
    .filter((v): v is VmRecord => v !== null && v.status !== "destroyed");
}

/** The VM named `name` when `wallet` holds its NFT right now (ownerOf at action time), else null. */
export async function heldServer(deps: ServeDeps, wallet: Hex, name: string): Promise<VmRecord | null> {
  const vm = getVm(deps.db, name);
  if (!vm || vm.status === "destroyed" || vm.nft_token_id === null) return null;
  const holder = await deps.chain.ownerOf(BigInt(vm.nft_token_id));
  return holder !== null && holder.toLowerCase() === wallet.toLowerCase() ? vm : null;
}

export async function planNames(deps: ServeDeps): Promise<Map<number, string>> {
  const plans = await deps.chain.plans().catch(() => []);
  return new Map(plans.map((p) => [p.id, p.name]));
}
