/**
 * Asking for a VM lifecycle action (power, reinstall, destroy): checks that need no hypervisor,
 * rate limits, and one job row the engine runs. Serve, the admin panel and `blockhost vm` all
 * come through here; nothing else calls the backend for these actions.
 */
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { now } from "../core/clock.ts";
import { BlockhostError } from "../core/errors.ts";
import { countVmJobsSince, enqueueJob, type JobKind, unfinishedVmJob } from "../core/state/jobs.ts";
import { getVm } from "../core/state/vms.ts";

/** Power operations: start, ACPI shutdown, ACPI reboot, hard power-off. */
export const POWER_OPS = ["start", "shutdown", "reboot", "off"] as const;
export type PowerOp = (typeof POWER_OPS)[number];
export type VmAction = PowerOp | "reinstall" | "destroy";

/**
 * Who asked: `cli` (the operator on the host), `admin:<wallet>` (the admin panel) or
 * `wallet:<address>` (the customer holding the VM's NFT; the only one rate limited).
 */
export type Requester = "cli" | `admin:${string}` | `wallet:${string}`;

export interface VmActionRequest {
  vm: string;
  action: VmAction;
  by: Requester;
  /** reinstall: the OS template id the customer chose. */
  os?: string;
}

/** Customer rate limits: actions per server and per wallet in a sliding window, and reinstalls per server. */
export const VM_ACTION_LIMITS = {
  perServer: { count: 12, windowMs: 10 * 60_000 },
  perWallet: { count: 40, windowMs: 10 * 60_000 },
  reinstallPerServer: { count: 3, windowMs: 60 * 60_000 },
} as const;

const KIND: Record<VmAction, JobKind> = {
  start: "power",
  shutdown: "power",
  reboot: "power",
  off: "power",
  reinstall: "reinstall",
  destroy: "destroy",
};
/** Key prefixes: `[a-z]+:` like every job key (the admin retry form matches on it). */
const PREFIX: Record<JobKind, string> = { power: "power", reinstall: "reinstall", destroy: "vmdestroy" } as Record<
  JobKind,
  string
>;

function limited(what: string, windowMs: number): never {
  throw new BlockhostError("E_RATE_LIMITED", `${what}; try again in ${Math.ceil(windowMs / 60_000)} minutes`, {
    retry_after_s: Math.ceil(windowMs / 1000),
  });
}

function checkLimits(db: Database, req: VmActionRequest): void {
  if (!req.by.startsWith("wallet:")) return;
  const since = (ms: number) => new Date(Date.now() - ms).toISOString();
  const L = VM_ACTION_LIMITS;
  if (countVmJobsSince(db, { vm: req.vm }, since(L.perServer.windowMs)) >= L.perServer.count)
    limited(`${req.vm} had ${L.perServer.count} actions in the last few minutes`, L.perServer.windowMs);
  if (countVmJobsSince(db, { by: req.by }, since(L.perWallet.windowMs)) >= L.perWallet.count)
    limited(`this wallet asked for ${L.perWallet.count} actions in the last few minutes`, L.perWallet.windowMs);
  if (
    req.action === "reinstall" &&
    countVmJobsSince(db, { vm: req.vm, kind: "reinstall" }, since(L.reinstallPerServer.windowMs)) >=
      L.reinstallPerServer.count
  )
    limited(`${req.vm} was reinstalled ${L.reinstallPerServer.count} times this hour`, L.reinstallPerServer.windowMs);
}

/** Refuse what can never run: unknown or destroyed VM, a create in progress, starting an expired VM. */
export function checkVmAction(db: Database, req: Omit<VmActionRequest, "by">): void {
  const vm = getVm(db, req.vm);
  if (!vm || vm.status === "destroyed") {
    if (req.action === "destroy") return;
    throw new BlockhostError("E_NOT_FOUND", `no VM named ${req.vm}`);
  }
  if (req.action === "destroy") return;
  if (vm.status === "creating") throw new BlockhostError("E_STATE", `${req.vm} is still being created`);
  const expired = vm.status === "suspended" || Date.parse(vm.expires_at) <= now().getTime();
  if (expired && (req.action === "start" || req.action === "reboot" || req.action === "reinstall"))
    throw new BlockhostError(
      "E_VM_SUSPENDED",
      `${req.vm} is suspended since its subscription expired (${vm.expires_at}); extend the subscription to start it`,
    );
}

/**
 * Record the request as a job and return its key. One lifecycle job per VM at a time: a second
 * request while one is queued or running is refused (E_CONFLICT), so two clicks never race.
 */
export function requestVmAction(db: Database, req: VmActionRequest): string {
  if (req.by.startsWith("wallet:") && req.action === "destroy")
    throw new BlockhostError("E_AUTH_DENIED", "a customer cannot destroy a server; let the subscription end");
  const kind = KIND[req.action];
  const key = `${PREFIX[kind]}:${req.vm}:${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  db.transaction(() => {
    checkVmAction(db, req);
    const busy = unfinishedVmJob(db, req.vm);
    if (busy) throw new BlockhostError("E_CONFLICT", `${req.vm} is busy with ${busy.key} (${busy.state}); wait for it`);
    checkLimits(db, req);
    enqueueJob(db, {
      kind,
      key,
      payload: { vm: req.vm, action: req.action, by: req.by, ...(req.os ? { os: req.os } : {}) },
      rerun: false,
    });
  }).immediate();
  return key;
}
